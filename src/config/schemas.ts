/**
 * zod schemas from an environment string to a typed value. Each carries its
 * own "expected …" text, which becomes the ConfigError message verbatim.
 */
import { z } from 'zod';
import type { Parsed } from './parsed.js';

/** A schema reading one environment variable's (non-empty) string. */
export type Field<T> = z.ZodType<T, string>;

/** A whole number in [min, max], digits only (no sign, exponent, spaces or hex). */
export function integer(min: number, max: number, what = 'an integer', note?: string): Field<number> {
  const expected = `${what} ${min}-${max}${note === undefined ? '' : ` (${note})`}`;
  return z
    .string()
    .regex(/^\d{1,16}$/, { error: expected })
    .transform(Number)
    .pipe(z.number().min(min, { error: expected }).max(max, { error: expected }));
}

/** A decimal number in [0, max] (at most six decimals): hours that may be fractional. */
export function decimal(max: number, what: string): Field<number> {
  const expected = `${what} 0-${max}`;
  return z
    .string()
    .regex(/^\d{1,6}(?:\.\d{1,6})?$/, { error: expected })
    .transform(Number)
    .pipe(z.number().max(max, { error: expected }));
}

/** A port to dial. */
export const port: Field<number> = integer(1, 65535, 'an integer port');

/** A port to listen on; 0 asks the system for a free one (tests, side-by-side runs). */
export const listenPort: Field<number> = integer(0, 65535, 'an integer port', '0: any free port');

/** Exactly `true` or `false`. */
export const boolean: Field<boolean> = z
  .enum(['true', 'false'], { error: 'true or false' })
  .transform((text) => text === 'true');

/** One of the listed words, exactly. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T): Field<T[number]> {
  return z.enum(values, { error: `one of ${values.join(', ')}` });
}

/** Text without control characters (so one line): it ends up in SMTP replies and headers. */
export const line: Field<string> = z
  .string()
  .regex(/^\P{Cc}*$/u, { error: 'a single line of text without control characters' });

/** Wraps a small parser so its "expected" text becomes the zod issue message. */
export function fromParser<T>(parse: (text: string) => Parsed<T>): Field<T> {
  return z.string().transform((text, ctx) => {
    const parsed = parse(text);
    if (parsed.ok) return parsed.value;
    ctx.addIssue({ code: 'custom', message: parsed.expected, input: text });
    return z.NEVER;
  });
}

/** A file-system path: non-empty, no control characters. */
export const path: Field<string> = z
  .string()
  .regex(/^\P{Cc}+$/u, { error: 'a file-system path without control characters' });
