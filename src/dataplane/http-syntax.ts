// Character classes of HTTP/1.1 heads (RFC 9110 §5.6, RFC 9112), checked by
// table over a range of a string: heads are parsed on every request, and a
// table loop over a few dozen characters costs less than a regex call on a
// sliced substring.

const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;

/** Whether text[start, end) is a non-empty token (a method or a field name). */
export function isToken(text: string, start: number, end: number): boolean {
  if (end <= start) return false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || TCHAR[c] === 0) return false;
  }
  return true;
}

/** Whether text[start, end) holds a control character other than HTAB (NUL, a bare CR or LF, DEL...). */
export function hasControl(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}

/** Whether a byte can begin a token: for telling a request line's start from other protocols' bytes. */
export function isTokenByte(c: number): boolean {
  return c < 128 && TCHAR[c] === 1;
}

/** A field line's value: text[start, end) without surrounding spaces and tabs (RFC 9112 §5). */
export function fieldValue(text: string, start: number, end: number): string {
  while (start < end && (text.charCodeAt(start) === 0x20 || text.charCodeAt(start) === 0x09)) start++;
  while (end > start && (text.charCodeAt(end - 1) === 0x20 || text.charCodeAt(end - 1) === 0x09)) end--;
  return text.slice(start, end);
}
