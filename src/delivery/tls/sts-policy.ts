/**
 * MTA-STS (RFC 8461) texts, parsed (pure): the `_mta-sts.<domain>` TXT
 * record (§3.1) and the policy file (§3.2). Failures are values that say
 * what is wrong, for logs; nothing here throws.
 */

export type StsMode = 'enforce' | 'testing' | 'none';

export interface StsPolicy {
  readonly mode: StsMode;
  /** MX host patterns (`mx.example.com`, `*.example.net`); empty only for `none`. */
  readonly mx: readonly string[];
  /** Seconds the policy may be cached (at most a year, RFC 8461 §3.2). */
  readonly maxAge: number;
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly why: string };

const MAX_AGE_LIMIT = 31_557_600;
const MODES: readonly StsMode[] = ['enforce', 'testing', 'none'];
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

function isDomain(name: string): boolean {
  return name.length <= 253 && name.split('.').length >= 2 && name.split('.').every((label) => LABEL.test(label));
}

/** `mx.example.com` or `*.example.com`, lower case without a trailing dot. */
function mxPattern(value: string): string | undefined {
  const name = value.toLowerCase().replace(/\.$/, '');
  const rest = name.startsWith('*.') ? name.slice(2) : name;
  return isDomain(rest) ? name : undefined;
}

function fields(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    out.set(key, [...(out.get(key) ?? []), line.slice(colon + 1).trim()]);
  }
  return out;
}

/** The policy file's text (§3.2): version first, then mode, max_age and the mx lines. */
export function parseStsPolicy(text: string): Parsed<StsPolicy> {
  const first = text.split(/\r?\n/, 1)[0] ?? '';
  if (!/^version:[ \t]*STSv1[ \t]*$/.test(first))
    return { ok: false, why: 'the policy does not start with version: STSv1' };
  const f = fields(text);
  const mode = MODES.find((m) => m === f.get('mode')?.[0]);
  if (!mode) return { ok: false, why: `mode is not enforce, testing or none (${f.get('mode')?.[0] ?? 'missing'})` };
  const ageText = f.get('max_age')?.[0] ?? '';
  const maxAge = /^\d{1,10}$/.test(ageText) ? Number(ageText) : NaN;
  if (!(maxAge <= MAX_AGE_LIMIT))
    return { ok: false, why: `max_age is not 0-${MAX_AGE_LIMIT} (${ageText || 'missing'})` };
  const mxTexts = f.get('mx') ?? [];
  const mx = mxTexts.map(mxPattern);
  const bad = mxTexts.find((_, i) => mx[i] === undefined);
  if (bad !== undefined) return { ok: false, why: `mx "${bad}" is not a host name or *.domain pattern` };
  if (mode !== 'none' && mx.length === 0) return { ok: false, why: `mode ${mode} needs at least one mx line` };
  return { ok: true, value: { mode, mx: mx.filter((m) => m !== undefined), maxAge } };
}

/**
 * The TXT records of `_mta-sts.<domain>` (each one's character-strings, as
 * the resolver gives them): the `id` of the one `v=STSv1` record. None: the
 * domain has no policy; several, or a bad id: an error (§3.1).
 */
export function parseStsRecord(records: readonly (readonly string[])[]): Parsed<{ readonly id: string }> | undefined {
  const sts = records.map((chunks) => chunks.join('')).filter((text) => /^v=STSv1\s*(;|$)/.test(text));
  if (sts.length === 0) return undefined;
  if (sts.length > 1) return { ok: false, why: `${sts.length} v=STSv1 TXT records; exactly one is allowed` };
  const pairs = (sts[0] ?? '').split(';').map((part) => part.trim());
  const id = pairs.find((part) => part.startsWith('id='))?.slice(3);
  if (id === undefined || !/^[A-Za-z0-9]{1,32}$/.test(id)) {
    return { ok: false, why: `the record has no id of 1-32 letters and digits (${id ?? 'missing'})` };
  }
  return { ok: true, value: { id } };
}
