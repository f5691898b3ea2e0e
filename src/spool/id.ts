import { pooledRandomBytes } from './random-pool.js';
import type { MessageId } from '../domain/envelope.js';

const ALPHABET = '0123456789abcdefghijklmnopqrstuv';

/**
 * A 20-character base32 id: 10 characters of millisecond time (sortable),
 * 10 of randomness (50 bits). Safe in file names and URLs.
 */
export function newMessageId(now: number): MessageId {
  let time = '';
  let t = Math.max(0, Math.floor(now));
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  const random = pooledRandomBytes(10);
  let tail = '';
  for (const byte of random) tail += ALPHABET[byte & 31]!;
  return time + tail;
}
