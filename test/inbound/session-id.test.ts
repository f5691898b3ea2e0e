import { describe, expect, it } from 'vitest';
import { sessionId } from '../../src/inbound/session-id.js';

describe('session ids (§3)', () => {
  it('are 16 base32 characters (80 random bits), like smtp-server’s own, and do not repeat', () => {
    const ids = Array.from({ length: 5000 }, () => sessionId());
    for (const id of ids) expect(id).toMatch(/^[0-9a-v]{16}$/);
    expect(new Set(ids).size).toBe(ids.length);
    // every character position takes many values: the bits are spread, not stuck
    for (let i = 0; i < 16; i++) expect(new Set(ids.map((id) => id[i])).size).toBeGreaterThan(20);
  });
});
