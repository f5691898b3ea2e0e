/**
 * Password secrets of SMTP_AUTH_USERS: plain text, a bcrypt hash or an scrypt hash.
 *
 * bcrypt: the usual modular crypt string, `$2a$`, `$2b$` or `$2y$` + cost + 53
 * characters (`htpasswd -nbB user pw`, `bcryptjs.hash`).
 *
 * scrypt (our format): `scrypt$N$r$p$saltB64$hashB64`
 *   N       CPU/memory cost, a power of two from 2 to 2^20 (hashScrypt uses 16384)
 *   r       block size, 1-32 (8)
 *   p       parallelisation, 1-16 (1)
 *   saltB64 the salt, standard base64 (padding optional), at least 8 bytes (16)
 *   hashB64 the derived key, standard base64, 16-128 bytes (32); its length is
 *           the key length given to scrypt when verifying.
 * `hashScrypt()` below makes one. dotenv keeps `$` literally (it does no
 * expansion); in a shell, single-quote the value.
 *
 * Anything else is a plain password, compared in constant time.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import bcrypt from 'bcryptjs';

export type SecretKind = 'plain' | 'bcrypt' | 'scrypt';

export interface ScryptHash {
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

const BCRYPT = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;
const BCRYPT_PREFIX = /^\$2[aby]\$/;
const SCRYPT_PREFIX = 'scrypt$';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function integerIn(text: string | undefined, min: number, max: number): number | undefined {
  const n = text !== undefined && /^\d{1,7}$/.test(text) ? Number(text) : NaN;
  return n >= min && n <= max ? n : undefined;
}

/** The parts of an `scrypt$N$r$p$salt$hash` string, or undefined if malformed. */
export function parseScryptHash(secret: string): ScryptHash | undefined {
  const [tag, nText, rText, pText, saltText, hashText, ...extra] = secret.split('$');
  if (tag !== 'scrypt' || extra.length > 0 || saltText === undefined || hashText === undefined) return undefined;
  const N = integerIn(nText, 2, 2 ** 20);
  const r = integerIn(rText, 1, 32);
  const p = integerIn(pText, 1, 16);
  if (N === undefined || r === undefined || p === undefined || (N & (N - 1)) !== 0) return undefined;
  if (!BASE64.test(saltText) || !BASE64.test(hashText)) return undefined;
  const salt = Buffer.from(saltText, 'base64');
  const hash = Buffer.from(hashText, 'base64');
  if (salt.length < 8 || hash.length < 16 || hash.length > 128) return undefined;
  return { N, r, p, salt, hash };
}

/** Which kind of secret this is, or undefined for a malformed bcrypt/scrypt hash. */
export function secretKind(secret: string): SecretKind | undefined {
  if (BCRYPT_PREFIX.test(secret)) return BCRYPT.test(secret) ? 'bcrypt' : undefined;
  if (secret.startsWith(SCRYPT_PREFIX)) return parseScryptHash(secret) === undefined ? undefined : 'scrypt';
  return 'plain';
}

function deriveScrypt(password: string, salt: Buffer, length: number, options: ScryptOptions): Promise<Buffer> {
  const N = options.N ?? 16384;
  const r = options.r ?? 8;
  const maxmem = 256 * N * r + 1024 * 1024; // scrypt needs ~128·N·r bytes
  return new Promise((resolve, reject) => {
    scrypt(password, salt, length, { ...options, maxmem }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** An scrypt hash of `password` in the format above (N=16384, r=8, p=1, 16-byte salt, 32-byte key). */
export async function hashScrypt(
  password: string,
  options: { N?: number; r?: number; p?: number } = {},
): Promise<string> {
  const { N = 16384, r = 8, p = 1 } = options;
  const salt = randomBytes(16);
  const key = await deriveScrypt(password, salt, 32, { N, r, p });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Whether `candidate` matches `secret` (plain, bcrypt or scrypt); never throws for a bad secret. */
export async function verifyPassword(secret: string, candidate: string): Promise<boolean> {
  switch (secretKind(secret)) {
    case 'bcrypt':
      return bcrypt.compare(candidate, secret);
    case 'scrypt': {
      const parsed = parseScryptHash(secret);
      if (parsed === undefined) return false;
      const key = await deriveScrypt(candidate, parsed.salt, parsed.hash.length, {
        N: parsed.N,
        r: parsed.r,
        p: parsed.p,
      });
      return timingSafeEqual(key, parsed.hash);
    }
    case 'plain':
      // Equal-length digests: the comparison time says nothing about the lengths either.
      return timingSafeEqual(sha256(secret), sha256(candidate));
    default:
      return false;
  }
}
