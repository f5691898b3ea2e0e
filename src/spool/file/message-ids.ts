/**
 * Message ids as numbers, so the due index can keep them in typed arrays: the
 * 20 base32 characters are two 10-character halves of 50 bits each (the
 * acceptance time in ms, then randomness), each exact in a float64.
 */
import type { MessageId } from '../../domain/envelope.js';

const ALPHABET = '0123456789abcdefghijklmnopqrstuv';
const VALUE = new Map([...ALPHABET].map((c, i) => [c, i]));
const HALF = 32 ** 10;

/** The 50-bit number of 10 base32 characters; NaN if any is not base32. */
function half(text: string): number {
  let n = 0;
  for (const c of text) {
    const v = VALUE.get(c);
    if (v === undefined) return Number.NaN;
    n = n * 32 + v;
  }
  return n;
}

export interface IdParts {
  /** The first half: the time the id was made (ms since the epoch). */
  readonly time: number;
  readonly random: number;
}

export function splitId(id: MessageId): IdParts {
  return { time: half(id.slice(0, 10)), random: half(id.slice(10, 20)) };
}

function encodeHalf(n: number): string {
  let out = '';
  let rest = n;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[rest % 32]! + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

export function joinId(time: number, random: number): MessageId {
  return encodeHalf(time) + encodeHalf(random);
}

/** The time half of an id: when it was made (the acceptance time for the file spool). */
export function idTime(id: MessageId): number {
  return half(id.slice(0, 10));
}

export const ID_HALF_LIMIT = HALF;
