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

const INT64_MAX = 2n ** 63n - 1n;

/** strconv.Atoi on a 64-bit platform: optional sign, decimal digits only, int64 range; undefined where Go errors. */
export function goAtoi(s: string | null): number | undefined {
  if (s === null || !/^[+-]?\d+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n > INT64_MAX || n < -INT64_MAX - 1n ? undefined : Number(n);
}

/** http.Request.RemoteAddr: `ip:port`, IPv6 in brackets, IPv4-mapped addresses shown as IPv4 as Go's net package does. */
export function goRemoteAddr(address: string | undefined, port: number | undefined): string {
  const ip = (address ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  return `${ip.includes(':') ? `[${ip}]` : ip}:${port ?? 0}`;
}

/** Header.Get: the first value of a header, matched case-insensitively as Go's canonical keys are. */
export function goHeaderGet(rawHeaders: readonly string[], name: string): string {
  const wanted = name.toLowerCase();
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i].toLowerCase() === wanted) return rawHeaders[i + 1];
  return '';
}
