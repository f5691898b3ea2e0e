import { createServer, type AddressInfo } from 'node:net';
import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpServer } from '../../src/http/server.js';
import { memoryLogger, openStream, startHarness, type Harness } from './helpers.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('startHttpServer', () => {
  it('a port in use rejects with the listen error (the daemon names the variable and exits)', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    const { logger } = memoryLogger();
    try {
      await expect(startHttpServer(new Koa(), '127.0.0.1', port, logger)).rejects.toMatchObject({
        code: 'EADDRINUSE',
      });
    } finally {
      blocker.close();
    }
  });

  it('close() ends open audit streams instead of waiting for them forever', async () => {
    harness = await startHarness({ auditEnabled: true });
    const sse = await openStream(`${harness.url}/audit`);
    const health = await openStream(`${harness.url}/healthz`);
    const ended = Promise.all(
      [sse, health].map((s) => new Promise<void>((resolve) => s.response.socket.once('close', () => resolve()))),
    );
    await harness.server.close(50);
    await ended;
    const h = harness;
    await expect.poll(async () => (await h.metrics.auditSubscribers.get()).values[0]?.value).toBe(0);
  });
});
