// Gateway API durations (GEP-2257): up to four `<number><unit>` parts with
// units h, m, s, ms, e.g. `1h30m`, `500ms`. The CRD pattern already limits the
// form; this turns a value into milliseconds.

const PART = /([0-9]{1,5})(h|ms|m|s)/y;
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** Milliseconds, or undefined when the text is not a Gateway API duration. */
export function parseDuration(text: string): number | undefined {
  PART.lastIndex = 0;
  let total = 0;
  let parts = 0;
  while (PART.lastIndex < text.length) {
    const m = PART.exec(text);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    parts += 1;
  }
  return parts >= 1 && parts <= 4 ? total : undefined;
}
