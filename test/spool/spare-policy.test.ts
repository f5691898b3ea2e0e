import { describe, expect, it } from 'vitest';
import { BUSY_BYTES, QUIET_LOOKS, spareAction } from '../../src/spool/file/spare-policy.js';

describe('spare log segments: what each look decides (§4)', () => {
  it('a busy log (1 MiB or more since the last look) gets spares made, and its quiet count starts over', () => {
    expect(spareAction(BUSY_BYTES, 7)).toEqual({ action: 'prepare', quietLooks: 0 });
    expect(spareAction(50 * BUSY_BYTES, 0)).toEqual({ action: 'prepare', quietLooks: 0 });
  });

  it('a log below that for ten looks in a row gives its extra spares back, once', () => {
    let quietLooks = 0;
    const actions: string[] = [];
    for (let look = 0; look < QUIET_LOOKS + 5; look++) {
      const next = spareAction(look % 2 === 0 ? 0 : BUSY_BYTES - 1, quietLooks);
      actions.push(next.action);
      quietLooks = next.quietLooks;
    }
    expect(actions.filter((a) => a === 'trim')).toHaveLength(1);
    expect(actions.indexOf('trim')).toBe(QUIET_LOOKS - 1);
    expect(actions.includes('prepare')).toBe(false);
  });

  it('a busy spell in between starts the quiet count over', () => {
    let state = { action: 'none', quietLooks: 0 };
    for (let look = 0; look < QUIET_LOOKS - 1; look++) state = spareAction(0, state.quietLooks);
    state = spareAction(BUSY_BYTES, state.quietLooks);
    expect(state).toEqual({ action: 'prepare', quietLooks: 0 });
    state = spareAction(0, state.quietLooks);
    expect(state.action).toBe('none');
  });
});
