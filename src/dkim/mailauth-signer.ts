/**
 * One streaming DKIM pass with mailauth's signer (the class behind its
 * `dkimSign`), typed here because mailauth ships no types for it. Two
 * additions, both made when mailauth has parsed the header block:
 *
 * - From is oversigned: mailauth lists each signed header once per instance
 *   in h=, so the top-most From gets one more `From` in its name as listed
 *   (h=…:From:From). A verifier finds no further instance for the extra
 *   entry and hashes nothing for it (RFC 6376 §5.4.2), exactly as the signer
 *   did; a From added later breaks the signature.
 * - A message that already carries a DKIM-Signature with d= our domain is
 *   not signed again; reading stops as soon as that is known.
 *
 * Only the header block is held (by mailauth's parser); the body is hashed
 * chunk by chunk.
 */
import { createRequire } from 'node:module';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

interface ParsedHeader {
  readonly key: string | null;
  casedKey: string | undefined;
  readonly line: Buffer;
}

interface ParsedHeaders {
  readonly parsed: ParsedHeader[];
}

interface SignatureData {
  readonly signingDomain: string;
  readonly selector: string;
  readonly privateKey: string;
}

interface SignerOptions {
  signatureData: SignatureData[];
  /** Colon-separated: mailauth falls back to its default list for anything else. */
  headerList: string;
  canonicalization: 'relaxed/relaxed';
  signTime: Date;
}

interface SignerInstance extends Writable {
  signatureData: SignatureData[];
  readonly signatureHeaders: readonly string[];
  readonly errors: readonly { readonly err?: unknown }[];
  messageHeaders(headers: ParsedHeaders): Promise<void>;
}

type SignerClass = new (options: SignerOptions) => SignerInstance;

const require = createRequire(import.meta.url);
const { DkimSigner } = require('mailauth/lib/dkim/dkim-signer.js') as { DkimSigner: SignerClass };

export interface SignRequest {
  readonly domain: string;
  readonly selector: string;
  readonly privateKeyPem: string;
  /** Signed when present; From is listed once more than it occurs. */
  readonly headerList: readonly string[];
  readonly signTime: Date;
}

export type PassOutcome =
  | { readonly kind: 'signed'; readonly header: string }
  | { readonly kind: 'already-signed' }
  | { readonly kind: 'no-body' };

class OversigningSigner extends DkimSigner {
  alreadySigned = false;

  constructor(
    options: SignerOptions,
    private readonly domain: string,
  ) {
    super(options);
  }

  override async messageHeaders(headers: ParsedHeaders): Promise<void> {
    if (headers.parsed.some((h) => h.key === 'dkim-signature' && signatureDomain(h.line) === this.domain)) {
      this.alreadySigned = true;
      this.signatureData = []; // finalize then signs nothing
    }
    const topFrom = headers.parsed.find((h) => h.key === 'from');
    if (topFrom?.casedKey !== undefined) topFrom.casedKey = `${topFrom.casedKey}: From`;
    await super.messageHeaders(headers);
  }
}

/** d= of a DKIM-Signature header line, lower-cased; '' when absent. */
export function signatureDomain(line: Buffer | string): string {
  const text = line.toString('latin1').replace(/\r?\n[ \t]/g, ' ');
  const value = text.slice(text.indexOf(':') + 1);
  const tag = /(?:^|;)\s*d\s*=\s*([^;]*)/i.exec(value);
  return (tag?.[1] ?? '').replace(/\s+/g, '').toLowerCase();
}

/** Reads `message` once and returns the DKIM-Signature header (CRLF-terminated) or why there is none. */
export async function signPass(message: AsyncIterable<Buffer>, request: SignRequest): Promise<PassOutcome> {
  const domain = request.domain.toLowerCase();
  const signer = new OversigningSigner(
    {
      signatureData: [{ signingDomain: domain, selector: request.selector, privateKey: request.privateKeyPem }],
      headerList: request.headerList.join(':'),
      canonicalization: 'relaxed/relaxed',
      signTime: request.signTime,
    },
    domain,
  );
  await pipeline(
    message,
    async function* untilAlreadySigned(source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        if (signer.alreadySigned) return; // stops reading the stored file
        yield chunk;
      }
    },
    signer,
  );
  if (signer.alreadySigned) return { kind: 'already-signed' };
  const failure = signer.errors[0];
  if (failure) {
    const reason = failure.err instanceof Error ? failure.err.message : String(failure.err);
    throw new Error(`DKIM signing failed: ${reason}`);
  }
  // mailauth computes no signature for a message without a blank line after the header block
  if (signer.signatureHeaders.length === 0) return { kind: 'no-body' };
  return { kind: 'signed', header: `${signer.signatureHeaders.join('\r\n')}\r\n` };
}
