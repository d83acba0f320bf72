// Go standard library behaviours the upstream echo server gets for free and
// that test clients written against it may notice.

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** textproto.CanonicalMIMEHeaderKey: `x-forwarded-for` → `X-Forwarded-For`; non-tokens are left alone. */
export function canonicalHeaderKey(name: string): string {
  if (!TOKEN.test(name)) return name;
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

const UNIT_MS: Record<string, number> = {
  ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000,
};

/** time.ParseDuration, in milliseconds, with Go's error wording (the echo returns it to the client). */
export function parseGoDuration(input: string): number {
  const invalid = () => new Error(`time: invalid duration ${JSON.stringify(input)}`);
  let s = input;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw invalid();
  let total = 0;
  while (s !== '') {
    const number = /^(\d*)(?:\.(\d*))?/.exec(s)!;
    if (number[0] === '' || number[0] === '.') throw invalid();
    s = s.slice(number[0].length);
    const unit = /^[^\d.]*/.exec(s)![0];
    if (unit === '') throw new Error(`time: missing unit in duration ${JSON.stringify(input)}`);
    const scale = UNIT_MS[unit];
    if (scale === undefined) throw new Error(`time: unknown unit ${JSON.stringify(unit)} in duration ${JSON.stringify(input)}`);
    s = s.slice(unit.length);
    total += Number(number[0].startsWith('.') ? `0${number[0]}` : number[0]) * scale;
  }
  return sign * total;
}

/** encoding/json escapes HTML-significant characters and JS line separators; keep the bytes identical. */
export function goJsonEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
