import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConnectionPool, type PoolLimits } from '../../src/delivery/connection-pool.js';
import type { ServerLimits } from '../../src/delivery/smtp/limits.js';
import type { SmtpSession } from '../../src/delivery/smtp/session.js';

/** A session stand-in: records QUIT, close and RSET; `reset` answers as told. */
class FakeSession {
  closed = false;
  quits = 0;
  closes = 0;
  resets = 0;
  private readonly listeners: (() => void)[] = [];
  constructor(
    private readonly resetFails = false,
    /** The server's LIMITS, as its EHLO stated them. */
    readonly limits: ServerLimits = {},
  ) {}
  onClose(listener: () => void): void {
    this.listeners.push(listener);
  }
  quit(): void {
    this.quits += 1;
    this.die();
  }
  close(): void {
    this.closes += 1;
    this.die();
  }
  reset(): Promise<void> {
    this.resets += 1;
    return this.resetFails ? Promise.reject(new Error('RSET refused')) : Promise.resolve();
  }
  die(): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.listeners.splice(0)) l();
  }
  get session(): SmtpSession {
    return this as unknown as SmtpSession;
  }
}

const limits: PoolLimits = { idleTimeoutMs: 5_000, maxIdlePerKey: 2, maxMessages: 3, maxAgeMs: 60_000 };
const pools: ConnectionPool[] = [];
function pool(overrides: Partial<PoolLimits> = {}): ConnectionPool {
  const p = new ConnectionPool({ ...limits, ...overrides });
  pools.push(p);
  return p;
}
afterEach(() => {
  for (const p of pools.splice(0)) p.close();
  vi.useRealTimers();
});

describe('ConnectionPool', () => {
  it('lends a parked session again for its key only, counting its messages', () => {
    const p = pool();
    const s = new FakeSession();
    const lent = p.adopt('a', s.session);
    expect(lent.messages).toBe(1);
    expect(p.take('a')).toBeUndefined(); // lent, not parked
    p.release(lent, 'done');
    expect(p.take('b')).toBeUndefined();
    const again = p.take('a');
    expect(again?.session).toBe(s.session);
    expect(again?.messages).toBe(2);
  });

  it('skips parked sessions that closed meanwhile', () => {
    const p = pool();
    const s = new FakeSession();
    p.release(p.adopt('a', s.session), 'done');
    expect(p.parked).toBe(1);
    s.die();
    expect(p.parked).toBe(0); // it left the pool as it closed
    expect(p.take('a')).toBeUndefined();
  });

  it('QUITs a session after its last message or once it is too old; closes a broken one', () => {
    const p = pool({ maxMessages: 2 });
    const worn = new FakeSession();
    const first = p.adopt('a', worn.session);
    p.release(first, 'done');
    p.release(p.take('a') ?? first, 'done'); // its second message: worn out
    expect(worn.quits).toBe(1);

    vi.useFakeTimers();
    const old = new FakeSession();
    const lent = p.adopt('a', old.session);
    vi.advanceTimersByTime(60_000);
    p.release(lent, 'done');
    expect(old.quits).toBe(1);

    const broken = new FakeSession();
    p.release(p.adopt('a', broken.session), 'broken');
    expect(broken.closes).toBe(1);
    expect(p.take('a')).toBeUndefined();
  });

  it("QUITs a session after the server's LIMITS MAILMAX when that is below maxMessages", () => {
    const p = pool({ maxMessages: 3 });
    const limited = new FakeSession(false, { mailMax: 1 });
    p.release(p.adopt('a', limited.session), 'done');
    expect(limited.quits).toBe(1);
    expect(p.take('a')).toBeUndefined();
    const roomy = new FakeSession(false, { mailMax: 10 }); // ours is lower: ours counts
    const lent = p.adopt('b', roomy.session);
    p.release(lent, 'done');
    p.release(p.take('b') ?? lent, 'done');
    expect(roomy.quits).toBe(0);
    p.release(p.take('b') ?? lent, 'done');
    expect(roomy.quits).toBe(1);
  });

  it('parks a session that ended early only after RSET, and closes it when RSET fails', async () => {
    const p = pool();
    const good = new FakeSession();
    p.release(p.adopt('a', good.session), 'reset');
    expect(p.take('a')).toBeUndefined(); // RSET not answered yet
    await Promise.resolve();
    expect(good.resets).toBe(1);
    expect(p.take('a')?.session).toBe(good.session);

    const bad = new FakeSession(true);
    p.release(p.adopt('b', bad.session), 'reset');
    await new Promise((resolve) => setImmediate(resolve));
    expect(bad.closes).toBe(1);
    expect(p.take('b')).toBeUndefined();
  });

  it('keeps at most maxIdlePerKey parked per key and QUITs idle ones after the idle timeout', () => {
    vi.useFakeTimers();
    const p = pool({ maxIdlePerKey: 1 });
    const [s1, s2] = [new FakeSession(), new FakeSession()];
    const [l1, l2] = [p.adopt('a', s1.session), p.adopt('a', s2.session)];
    p.release(l1, 'done');
    p.release(l2, 'done');
    expect(s2.quits).toBe(1); // no room
    vi.advanceTimersByTime(5_000);
    expect(s1.quits).toBe(1);
    expect(p.take('a')).toBeUndefined();
  });

  it('after close, QUITs what is parked, lends nothing and parks nothing', async () => {
    const p = pool();
    const [parked, lent, resetting] = [new FakeSession(), new FakeSession(), new FakeSession()];
    p.release(p.adopt('a', parked.session), 'done');
    const l = p.adopt('a', lent.session);
    const r = p.adopt('b', resetting.session);
    p.release(r, 'reset'); // RSET in flight while the pool closes
    p.close();
    expect(parked.quits).toBe(1);
    expect(p.take('a')).toBeUndefined();
    p.release(l, 'done');
    expect(lent.quits).toBe(1);
    await Promise.resolve();
    expect(resetting.closes).toBe(1);
  });
});
