/**
 * The web console in a real browser: Debian's Chromium (never a downloaded
 * one) driven by playwright-core against the real daemon, a local DNS server
 * and a sink that answers 451 to the first two attempts. The page must see the
 * message arrive live on the audit tail and in the queue, hold and release
 * its destination, show the message, retry it and see it delivered, all
 * without a single Content-Security-Policy complaint. The screenshot goes to
 * test-results/console.png (ignored by git).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { startDnsServer, type RunningDnsServer } from '../helpers/dns-server.js';
import { startSink, type Sink } from '../helpers/sink.js';
import { sendRaw } from '../helpers/smtp-client.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);
const SKIP = CHROMIUM === undefined || !existsSync(CHROMIUM);
const REASON = SKIP
  ? ` (skipped: no Chromium at ${CHROMIUM ?? '/usr/bin/chromium'}; apt-get install chromium, or set CHROMIUM_PATH)`
  : '';
const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));

let dns: RunningDnsServer;
let sink: Sink;
let daemon: TestDaemon;
let browser: Browser;
let page: Page;
const problems: string[] = [];

function sendOne(port: number, to: string, subject: string): Promise<string> {
  return sendRaw(port, 'alice@mx.local.test', [to], `Subject: ${subject}\r\n\r\nHello from the console test.\r\n`);
}

describe.skipIf(SKIP)(`the web console in Chromium (§6)${REASON}`, () => {
  beforeAll(async () => {
    dns = await startDnsServer({
      'example.test': { MX: [{ exchange: 'mx.example.test', priority: 10 }] },
      'mx.example.test': { A: ['127.0.0.1'] },
    });
    sink = await startSink({ tempFailFirst: 2 });
    daemon = await startTestDaemon({
      SMTP_DELIVERY_MODE: 'mx',
      SMTP_DNS_SERVERS: `127.0.0.1:${dns.port}`,
      SMTP_OUTBOUND_PORT: String(sink.port),
      SMTP_OUTBOUND_TLS_VERIFY: 'false',
      SMTP_RETRY_BASE_SECONDS: '600', // the deferred message waits for the button, not for a timer
      SMTP_HEALTH_DISABLE: 'false',
      SMTP_HEALTH_ADDR: '127.0.0.1:0',
      SMTP_DEBUG: 'true',
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.setDefaultTimeout(8_000);
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
  });
  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    await sink?.close();
    await dns?.close();
  });

  it('tails a deferred message live, holds and releases its destination, retries it and sees it delivered', async () => {
    const port = daemon.daemon.http?.port;
    if (port === undefined) throw new Error('HTTP did not start');
    const response = await page.goto(`http://127.0.0.1:${port}/ui`);
    expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
    await page.waitForSelector('#tail-state:text("live")');

    const id = await sendOne(daemon.port, 'bob@example.test', 'console');
    await page.waitForSelector(`#tail li[data-type="message.stored"][data-id="${id}"]`);
    await page.waitForSelector(`#tail li[data-type="delivery.outcome"][data-id="${id}"]:has-text("deferred")`);
    await page.waitForSelector(`#queue tr[data-id="${id}"][data-status="deferred"]`);
    const destination = page.locator('#destinations tr[data-domain="example.test"]');
    await destination.locator('td.reply:has-text("451")').waitFor();

    await destination.locator('button[data-action="hold"]').click();
    await page.waitForSelector('#destinations tr.held[data-domain="example.test"]');
    expect(JSON.parse(await readFile(join(daemon.spoolDir, 'holds.json'), 'utf8'))).toEqual({ held: ['example.test'] });
    await page.locator('#destinations tr[data-domain="example.test"] button[data-action="release"]').click();
    await page.waitForSelector('#destinations tr[data-domain="example.test"]:not(.held)');
    // a release retries the destination's mail at once: the sink answers 451 a second time
    const deferrals = `#tail li[data-type="delivery.outcome"][data-id="${id}"]`;
    await page.locator(`${deferrals}:has-text("deferred")`).nth(1).waitFor();
    await page.waitForSelector(`#queue tr[data-id="${id}"][data-status="deferred"]`);

    await page.locator(`#queue tr[data-id="${id}"] a`).click();
    await page.waitForSelector('#message-panel:not([hidden]) #message-recipients tr[data-status="deferred"]');
    expect(await page.locator('#message-id').textContent()).toBe(id);

    await page.locator(`#queue tr[data-id="${id}"] button[data-action="retry"]`).click();
    const [delivered] = await sink.waitForMessages(1, 10_000);
    expect(delivered?.to).toEqual(['bob@example.test']);
    await page.waitForSelector(`#tail li[data-type="delivery.outcome"][data-id="${id}"]:has-text("delivered")`);
    await page.waitForSelector(`#message-recipients tr[data-status="delivered"]`);
    await page.waitForSelector(`#queue tr[data-id="${id}"]`, { state: 'detached' });

    await mkdir(RESULTS, { recursive: true });
    await page.screenshot({ path: `${RESULTS}console.png`, fullPage: true });
    expect(problems).toEqual([]);
  });

  it('with SMTP_ADMIN_TOKEN asks for the token, keeps it for the tab, and offers to switch audit logging on', async () => {
    const token = 'browser-test-token-0123456789';
    const guarded = await startTestDaemon({
      SMTP_HEALTH_DISABLE: 'false',
      SMTP_HEALTH_ADDR: '127.0.0.1:0',
      SMTP_ADMIN_TOKEN: token,
    });
    const tab = await browser.newPage();
    try {
      tab.setDefaultTimeout(8_000);
      await tab.goto(`http://127.0.0.1:${guarded.daemon.http?.port}/ui`);
      await tab.waitForSelector('#login:not([hidden])');
      await tab.fill('#token', 'not-the-token-at-all');
      await tab.click('#login button[type="submit"]');
      await tab.waitForSelector('#login:not([hidden])'); // refused: asked again
      await tab.fill('#token', token);
      await tab.click('#login button[type="submit"]');
      await tab.waitForSelector('#tail-state:text("live")');
      expect(await tab.evaluate('sessionStorage.getItem("gopherpost.adminToken")')).toBe(token);
      await tab.waitForSelector('#audit-off:not([hidden])');
      await tab.click('#audit-on');
      await tab.waitForSelector('#audit-off', { state: 'hidden' });
      expect(guarded.daemon.audit.isEnabled()).toBe(true);
    } finally {
      await tab.close();
      await guarded.stop();
    }
  });
});
