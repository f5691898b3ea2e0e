import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { startDnsServer, type DnsZone, type RunningDnsServer } from '../helpers/dns-server.js';
import { eventually } from '../helpers/eventually.js';
import { startSink, type Sink } from '../helpers/sink.js';
import { ehlo } from '../helpers/smtp-client.js';
import { parsePrometheus, type Exposition } from '../http/helpers.js';

const PACKAGING = fileURLToPath(new URL('../../packaging/', import.meta.url));
/** More deferring destinations than the metrics label on their own (10): the rest count as `other`. */
const DEFERRING = Array.from({ length: 12 }, (_, i) => `d${i + 1}.test`);

function zone(): DnsZone {
  const entries: DnsZone = {
    'deliver.test': { MX: [{ exchange: 'mx.deliver.test', priority: 10 }] },
    'mx.deliver.test': { A: ['127.0.0.1'] },
    'bounce.test': { A: ['127.0.0.1'] },
  };
  for (const domain of DEFERRING) entries[domain] = { A: ['127.0.0.1'] };
  return entries;
}

async function send(port: number, to: readonly string[]): Promise<void> {
  const client = await ehlo(port);
  try {
    expect((await client.command('MAIL FROM:<alice@mx.local.test>')).code).toBe(250);
    for (const rcpt of to) expect((await client.command(`RCPT TO:<${rcpt}>`)).code).toBe(250);
    await client.command('DATA');
    expect((await client.command('Subject: metrics\r\n\r\nhello\r\n.')).code).toBe(250);
  } finally {
    client.close();
  }
}

let dns: RunningDnsServer;
let sink: Sink;
let d: TestDaemon;
let base: string;

async function scrape(): Promise<Exposition> {
  const res = await fetch(`${base}/metrics`);
  expect(res.status).toBe(200);
  return parsePrometheus(await res.text());
}

const value = (e: Exposition, name: string, labels: Record<string, string> = {}): number =>
  e.value(name, labels) ?? Number.NaN;

beforeAll(async () => {
  dns = await startDnsServer(zone());
  sink = await startSink({
    rcpt: (address) => {
      if (address.endsWith('@bounce.test')) return { code: 550, message: '5.1.1 No such user' };
      if (DEFERRING.some((domain) => address.endsWith(`@${domain}`)))
        return { code: 451, message: '4.7.1 Greylisted, try again later' };
      return undefined;
    },
  });
  d = await startTestDaemon({
    SMTP_DELIVERY_MODE: 'mx',
    SMTP_DNS_SERVERS: `127.0.0.1:${dns.port}`,
    SMTP_OUTBOUND_PORT: String(sink.port),
    SMTP_OUTBOUND_TLS_VERIFY: 'false',
    SMTP_BOUNCES: 'false',
    SMTP_HEALTH_DISABLE: 'false',
    SMTP_HEALTH_ADDR: '127.0.0.1:0',
  });
  const http = d.daemon.http;
  if (!http) throw new Error('HTTP server did not start');
  base = `http://127.0.0.1:${http.port}`;
});

afterAll(async () => {
  await d.stop();
  await sink.close();
  await dns.close();
});

describe('metrics of a daemon that delivers, defers and bounces (§6)', () => {
  it('shows how late the mail is: oldest waiting age, queue time and attempt duration by outcome, deferrals per destination', async () => {
    const empty = await scrape();
    expect(value(empty, 'gopherpost_queue_oldest_age_seconds')).toBe(0);
    expect(value(empty, 'gopherpost_spool_writable')).toBe(1);

    await send(d.port, ['ok@deliver.test']);
    await send(d.port, ['nobody@bounce.test']);
    await send(
      d.port,
      DEFERRING.map((domain) => `later@${domain}`),
    );
    const outcomes = (e: Exposition): number =>
      ['delivered', 'deferred', 'bounced'].reduce(
        (sum, result) => sum + value(e, 'gopherpost_deliveries_total', { result }),
        0,
      );
    let m = await scrape();
    await eventually(
      async () => outcomes((m = await scrape())) === 14,
      20_000,
      () => `14 delivery outcomes (have ${outcomes(m)})`,
    );

    for (const [outcome, count] of [
      ['delivered', 1],
      ['bounced', 1],
      ['deferred', DEFERRING.length],
    ] as const) {
      expect(value(m, 'gopherpost_deliveries_total', { result: outcome })).toBe(count);
      expect(value(m, 'gopherpost_delivery_duration_seconds_count', { outcome })).toBe(count);
      expect(value(m, 'gopherpost_queue_time_seconds_count', { outcome })).toBe(count);
      expect(value(m, 'gopherpost_queue_time_seconds_bucket', { outcome, le: '+Inf' })).toBe(count);
    }
    // a local sink answers within seconds: every outcome in the first buckets
    expect(value(m, 'gopherpost_queue_time_seconds_bucket', { outcome: 'delivered', le: '15' })).toBe(1);
    expect(value(m, 'gopherpost_queue_time_seconds_sum', { outcome: 'delivered' })).toBeGreaterThan(0);
    expect(value(m, 'gopherpost_delivery_duration_seconds_bucket', { outcome: 'bounced', le: '10' })).toBe(1);

    // twelve deferring destinations: ten with a label of their own, two as `other`
    const perDestination = m.samples.filter((s) => s.name === 'gopherpost_deferred_recipients_total');
    const labelled = perDestination.filter((s) => s.labels.destination !== 'other');
    expect(labelled).toHaveLength(10);
    for (const s of labelled) {
      expect(DEFERRING).toContain(s.labels.destination);
      expect(s.value).toBe(1);
    }
    expect(value(m, 'gopherpost_deferred_recipients_total', { destination: 'other' })).toBe(2);

    // the deferred recipients wait for their retry: the oldest has waited a little
    expect(value(m, 'gopherpost_queue_depth')).toBe(DEFERRING.length);
    expect(value(m, 'gopherpost_queue_oldest_age_seconds')).toBeGreaterThan(0);
    expect(value(m, 'gopherpost_queue_oldest_age_seconds')).toBeLessThan(60);
  });

  it('exports every metric the Grafana dashboard and the Prometheus rules name', async () => {
    const exposition = await scrape();
    const exported = (name: string): boolean => {
      const histogram = /^(.*)_(bucket|sum|count)$/.exec(name)?.[1];
      return exposition.types.has(name) || (histogram !== undefined && exposition.types.get(histogram) === 'histogram');
    };
    const dashboard = JSON.parse(await readFile(join(PACKAGING, 'grafana/gopherpost.json'), 'utf8')) as {
      panels: { targets?: { expr: string }[] }[];
      templating: { list: { query?: { query: string } }[] };
    };
    const dashboardQueries = [
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
      ...dashboard.templating.list.map((v) => v.query?.query ?? ''),
    ];
    expect(dashboardQueries.length).toBeGreaterThan(20);
    const ruleFiles = (await readdir(join(PACKAGING, 'prometheus'))).filter((f) => f.endsWith('.yml'));
    expect(ruleFiles).toContain('gopherpost-rules.yml');
    const ruleTexts = await Promise.all(ruleFiles.map((f) => readFile(join(PACKAGING, 'prometheus', f), 'utf8')));
    const ruleExprs = ruleTexts.flatMap(exprsOfRules);
    expect(ruleExprs.length).toBeGreaterThanOrEqual(7);

    const used = new Set(
      // rule files whole: expressions, annotations naming a metric, and the unit tests' input series
      [...dashboardQueries, ...ruleExprs, ...ruleTexts].flatMap((text) => metricNames(text)),
    );
    for (const name of [
      'gopherpost_queue_depth',
      'gopherpost_queue_oldest_age_seconds',
      'gopherpost_deliveries_total',
      'gopherpost_delivery_duration_seconds_bucket',
      'gopherpost_queue_time_seconds_bucket',
      'gopherpost_deferred_recipients_total',
      'gopherpost_spool_writable',
      'gopherpost_audit_events_dropped_total',
      'process_resident_memory_bytes',
    ])
      expect(used).toContain(name);
    expect([...used].filter((name) => !exported(name))).toEqual([]);
  });

  it('reports the spool as not writable while it is not, and writable again after', async () => {
    const tmp = join(d.spoolDir, 'tmp');
    await rm(tmp, { recursive: true, force: true });
    try {
      expect(value(await scrape(), 'gopherpost_spool_writable')).toBe(0);
    } finally {
      await mkdir(tmp, { recursive: true, mode: 0o700 });
    }
    expect(value(await scrape(), 'gopherpost_spool_writable')).toBe(1);
  });
});

/** Metric names in PromQL (or any text): gopherpost's own, and the Node.js process metrics. */
function metricNames(text: string): string[] {
  return [...text.matchAll(/\b(?:gopherpost|process|nodejs)_[a-z0-9_]+/g)].map((match) => match[0]);
}

/** The `expr:` values of a Prometheus rule file, folded (`>-`) ones included. */
function exprsOfRules(text: string): string[] {
  const exprs: string[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const match = /^(\s*)(?:- )?expr:\s*(.*)$/.exec(line);
    if (!match) return;
    const indent = (match[1] ?? '').length;
    const parts = /^[>|]-?$/.test(match[2] ?? '') ? [] : [match[2] ?? ''];
    for (let j = i + 1; j < lines.length; j++) {
      const next = lines[j] ?? '';
      if (next.trim() !== '' && next.search(/\S/) <= indent) break;
      parts.push(next.trim());
    }
    exprs.push(parts.join(' ').trim());
  });
  return exprs;
}
