/** What a small parser returns: the value, or what was expected instead. */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly expected: string };

export function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

export function fail(expected: string): Parsed<never> {
  return { ok: false, expected };
}

/** Splits a comma-separated list, trimming entries and dropping empty ones. */
export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}
