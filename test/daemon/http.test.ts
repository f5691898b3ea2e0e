import { request } from 'node:http';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

let d: TestDaemon;
let base: string;

beforeAll(async () => {
  d = await startTestDaemon({
    SMTP_HEALTH_DISABLE: 'false',
    SMTP_HEALTH_ADDR: '127.0.0.1:0',
    SMTP_DEBUG: 'true',
    SMTP_REQUIRE_LOCAL_DOMAIN: 'false',
  });
  const http = d.daemon.http;
  if (!http) throw new Error('HTTP server did not start');
  base = `http://127.0.0.1:${http.port}`;
});
afterAll(async () => {
  await d.stop();
});

async function get(path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, body: await res.text() };
}

function counter(metrics: string, name: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function send(subject: string): Promise<string> {
  const info = await nodemailer
    .createTransport({ host: '127.0.0.1', port: d.port, secure: false, tls: { rejectUnauthorized: false } })
    .sendMail({
      envelope: { from: 'a@sender.test', to: ['b@example.test'] },
      raw: `Subject: ${subject}\r\n\r\nhi\r\n`,
    });
  return info.response;
}

describe('the daemon over HTTP (§6)', () => {
  it('is ready when SMTP listens and the spool is writable', async () => {
    expect(await get('/readyz')).toMatchObject({ status: 200 });
  });

  it('counts a received message in /metrics and shows it in the queue API', async () => {
    const before = counter((await get('/metrics')).body, 'gopherpost_messages_received_total');
    const response = await send('metrics');
    const id = response.slice(-20);
    const metrics = (await get('/metrics')).body;
    expect(counter(metrics, 'gopherpost_messages_received_total')).toBe(before + 1);
    expect(counter(metrics, 'gopherpost_queue_depth')).toBeGreaterThanOrEqual(1);
    const messages = JSON.parse((await get('/api/messages')).body) as unknown;
    expect(JSON.stringify(messages)).toContain(id);
    const raw = await get(`/api/messages/${id}/raw`);
    expect(raw.body).toMatch(/^Received: from /);
  });

  it('streams audit lines on /healthz while audit logging is on', async () => {
    const lines: string[] = [];
    let opened: () => void = () => undefined;
    // the stream subscribes to the audit records before it writes its first line, "OK"
    const subscribed = new Promise<void>((resolve) => (opened = resolve));
    const done = new Promise<void>((resolve, reject) => {
      const req = request(`${base}/healthz`, (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          lines.push(...chunk.split('\n').filter(Boolean));
          opened();
          if (lines.some((l) => l.includes('message.stored'))) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', reject);
      req.end();
    });
    await subscribed;
    await send('healthz');
    await done;
    expect(lines[0]).toBe('OK');
    expect(lines.some((l) => l.includes('session.start'))).toBe(true);
  });
});
