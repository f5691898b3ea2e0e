/**
 * Session ids: 80 random bits as 16 base32 characters, like smtp-server's own,
 * drawn from pooled randomness (the "pooled session ids" patch in patches.ts
 * says why).
 *
 * In: nothing (the random pool). Out: `sessionId()`.
 */
import { pooledRandomBytes } from '../spool/random-pool.js';

const BASE32 = '0123456789abcdefghijklmnopqrstuv';

/** 80 random bits as 16 base32 characters, like smtp-server's own ids. */
export function sessionId(): string {
  const bytes = pooledRandomBytes(10);
  let id = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      id += BASE32[(value >>> bits) & 31];
    }
    value &= (1 << bits) - 1;
  }
  return id;
}
