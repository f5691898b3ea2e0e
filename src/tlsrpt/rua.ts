/**
 * The `_smtp._tls.<domain>` TXT record (RFC 8460 §3), parsed strictly
 * (pure): exactly one record starting `v=TLSRPTv1`, `;`-separated fields,
 * one `rua=` of comma-separated `mailto:` and `https:` URIs, extensions
 * `name=value` allowed and ignored. Anything else: the domain asks for no
 * reports. Failures are values that say what is wrong.
 */

export type Rua =
  | { readonly kind: 'mailto'; readonly uri: string; readonly address: string }
  | { readonly kind: 'https'; readonly uri: string; readonly url: URL };

export type RuaResult =
  { readonly ok: true; readonly rua: readonly Rua[] } | { readonly ok: false; readonly why: string };

const VERSION = /^v=TLSRPTv1(?=[ \t]*(;|$))/;
const EXT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;
const EXT_VALUE = /^[\x21-\x3a\x3c\x3e-\x7e]+$/;
const ADDRESS = /^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$/;

function ruaOf(uri: string): Rua | string {
  if (/^mailto:/i.test(uri)) {
    let address: string;
    try {
      address = decodeURIComponent(uri.slice(7).split('?')[0] ?? '');
    } catch {
      return `the URI ${uri} is not well formed`;
    }
    return ADDRESS.test(address) ? { kind: 'mailto', uri, address } : `${uri} has no mail address`;
  }
  if (/^https:\/\//i.test(uri)) {
    try {
      return { kind: 'https', uri, url: new URL(uri) };
    } catch {
      return `the URI ${uri} is not well formed`;
    }
  }
  return `${uri} is neither a mailto: nor an https: URI`;
}

/** The URIs of one `rua=` value. */
function ruaList(value: string): RuaResult {
  const uris = value.split(',').map((u) => u.trim());
  if (uris.some((u) => u === '' || /[\s;]/.test(u))) return { ok: false, why: `rua=${value} is not a list of URIs` };
  const rua: Rua[] = [];
  for (const uri of uris) {
    const one = ruaOf(uri);
    if (typeof one === 'string') return { ok: false, why: one };
    rua.push(one);
  }
  return { ok: true, rua };
}

/** One record's text (its character-strings joined). */
export function parseTlsRptRecord(text: string): RuaResult {
  if (!VERSION.test(text)) return { ok: false, why: 'the record does not start with v=TLSRPTv1' };
  const fields = text.split(';').map((f) => f.trim());
  if (fields.at(-1) === '') fields.pop(); // a trailing delimiter is allowed
  let found: RuaResult | undefined;
  for (const field of fields.slice(1)) {
    const eq = field.indexOf('=');
    const name = eq > 0 ? field.slice(0, eq).trim() : '';
    const value = eq > 0 ? field.slice(eq + 1).trim() : '';
    if (name === 'rua') {
      if (found) return { ok: false, why: 'the record has more than one rua=' };
      found = ruaList(value);
      if (!found.ok) return found;
    } else if (!EXT_NAME.test(name) || !EXT_VALUE.test(value)) {
      return { ok: false, why: `"${field}" is not a name=value field` };
    }
  }
  return found ?? { ok: false, why: 'the record has no rua=' };
}

/**
 * The TXT records of `_smtp._tls.<domain>` as the resolver gives them: the
 * report URIs; undefined when there is no TLSRPT record; an error when there
 * are several or the one is malformed (§3: the domain then gets no report).
 */
export function parseTlsRptRecords(records: readonly (readonly string[])[]): RuaResult | undefined {
  const ours = records.map((chunks) => chunks.join('')).filter((text) => VERSION.test(text));
  if (ours.length === 0) return undefined;
  if (ours.length > 1) return { ok: false, why: `${ours.length} v=TLSRPTv1 TXT records; exactly one is allowed` };
  return parseTlsRptRecord(ours[0] ?? '');
}
