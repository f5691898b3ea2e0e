import { Socket, connect, createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { sendQueueBytes, unsentBytes } from '../../src/net/send-queue.js';

describe("a connection's kernel send queue (net/send-queue)", () => {
  it("finds one connection's send queue in a /proc/net/tcp table by its ports", () => {
    const table = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:1FBD 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5923 1 0 100 0 0 10 0',
      '   1: 0100007F:1FBD 0100007F:A194 01 003B7E6C:00000000 01:00000014 00000000     0        0 7001 1 0 20 4 30 10 -1',
      '   2: 0100007F:A194 0100007F:1FBD 01 00000000:0001FBE4 00:00000000 00000000     0        0 7002 1 0 20 4 30 10 -1',
    ].join('\n');
    expect(sendQueueBytes(table, 0x1fbd, 0xa194)).toBe(0x3b7e6c);
    expect(sendQueueBytes(table, 0xa194, 0x1fbd)).toBe(0);
    expect(sendQueueBytes(table, 0x1fbd, 0x1234)).toBeUndefined();
    expect(
      sendQueueBytes(`${table}\n   3: 0200007F:1FBD 0100007F:A194 01 00000010:00000000`, 0x1fbd, 0xa194),
    ).toBeUndefined(); // two matches: not sure which
  });

  it.runIf(process.platform === 'linux')(
    'reads what a peer that never reads has left in the kernel, over a real TCP connection',
    async () => {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
      const client = connect({ port, host: '127.0.0.1' });
      client.pause();
      const socket = await accepted;
      try {
        expect(await unsentBytes(socket)).toBe(0);
        const chunk = Buffer.alloc(64 * 1024);
        for (let i = 0; i < 64; i++) socket.write(chunk); // 4 MB: more than a paused peer's window takes
        await expect
          .poll(async () => (await unsentBytes(socket)) ?? 0, { timeout: 5_000, interval: 50 })
          .toBeGreaterThan(0);
      } finally {
        client.destroy();
        socket.destroy();
        await new Promise((resolve) => server.close(resolve));
      }
    },
  );

  it('knows nothing of a socket that is not connected', async () => {
    expect(await unsentBytes(new Socket())).toBeUndefined();
  });
});
