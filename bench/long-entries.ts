/**
 * The long `npm run bench` entries, SOAK and QSCALE (run only when named in
 * --only): runs them, prints their table rows and the soak's verdicts, and
 * returns their figures for BENCH_JSON.
 */
import { loadavg } from 'node:os';
import { machineSince, markMachine } from './machine-cpu.js';
import { runQueueScale } from './queue-scale.js';
import { round } from './sample.js';
import { runSoak } from './soak.js';
import { verdictWord } from './soak-verdict.js';

export interface LongEntries {
  readonly soak: { readonly seconds: number } | undefined;
  readonly qscale: { readonly recipients: number; readonly perMessage: number } | undefined;
}

const n = (x: number | undefined, digits = 1): string =>
  x === undefined || !Number.isFinite(x) ? 'n/a' : String(round(x, digits));

export async function runLongEntries(base: string, which: LongEntries): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  if (which.soak) rows.push(await measured(() => soakRow(base, which.soak?.seconds ?? 240)));
  if (which.qscale) {
    const { qscale } = which;
    rows.push(await measured(() => qscaleRow(base, qscale)));
  }
  return rows;
}

/** Runs an entry and adds (and prints) how busy the machine was meanwhile: other work shares the cores. */
async function measured(entry: () => Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
  console.log(`
(load average before: ${loadavg()
    .map((x) => round(x, 2))
    .join(' ')})`);
  const mark = await markMachine();
  const row = await entry();
  const machine = await machineSince(mark);
  console.log(
    `Machine during the entry: ${machine.busySeconds} CPU s busy of ${round(machine.wallSeconds * machine.cores)} available (${machine.cores} cores × ${machine.wallSeconds} s); this bench process (load generator, samplers${row.workload === 'SOAK' ? ', /audit reader' : ', in-process claims'}) ${machine.benchCpuSeconds} s; load average after: ${machine.loadAverage.join(' ')}`,
  );
  return { ...row, machine };
}

async function soakRow(base: string, seconds: number): Promise<Record<string, unknown>> {
  const f = await runSoak(base, seconds);
  const { verdict: v } = f;
  const checks = [v.drained, v.rss, v.heap, v.fds];
  const bar = checks.some((c) => c.pass === false) ? 'FAIL' : checks.every((c) => c.pass === true) ? 'PASS' : 'n/a';
  const row = {
    workload: 'SOAK',
    seconds: round(f.loadSeconds),
    accepted: f.accepted,
    msgsPerSecond: round(f.accepted / f.loadSeconds),
    delivered: f.delivered,
    drainSeconds: f.drainSeconds === undefined ? null : round(f.drainSeconds, 1),
    rssMiB: { q2Peak: v.rss.q2Peak, q4Peak: v.rss.q4Peak },
    heapUsedMiB: { q2Peak: v.heap.q2Peak, q4Peak: v.heap.q4Peak },
    fds: { q2Peak: v.fds.q2Peak, q4Peak: v.fds.q4Peak },
    cpuPer1k: round((f.daemonCpuSeconds / Math.max(1, f.accepted)) * 1000, 3),
    daemonCpuSeconds: round(f.daemonCpuSeconds),
    sinkCpuSeconds: f.sinkCpuSeconds === undefined ? null : round(f.sinkCpuSeconds),
    stopSeconds: round(f.stopSeconds, 2),
    sink: f.sink,
    sinkSessions: f.sinkSessions,
    deliveries: f.deliveries,
    auditEvents: f.auditEvents,
    auditDropped: f.auditDropped,
    verdicts: {
      drained: verdictWord(v.drained),
      rssFlat: verdictWord(v.rss),
      heapFlat: verdictWord(v.heap),
      fdsFlat: verdictWord(v.fds),
    },
    samples: f.samples,
    ...(f.daemonExit === undefined ? {} : { daemonExit: f.daemonExit }),
    ...(f.auditEnded === undefined ? {} : { auditEnded: f.auditEnded }),
  };
  console.log(
    '\nworkload | load s | accepted | msgs/s in | delivered | drain s | RSS MiB Q2→Q4 peak | heap used MiB Q2→Q4 peak | fds Q2→Q4 peak | server CPU s/1k msgs | bar',
  );
  console.log('---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---');
  console.log(
    `SOAK | ${row.seconds} | ${f.accepted} | ${row.msgsPerSecond} | ${f.delivered} | ${n(f.drainSeconds)} | ${n(v.rss.q2Peak)} → ${n(v.rss.q4Peak)} | ${n(v.heap.q2Peak)} → ${n(v.heap.q4Peak)} | ${n(v.fds.q2Peak, 0)} → ${n(v.fds.q4Peak, 0)} | ${row.cpuPer1k} | ${bar}`,
  );
  console.log(
    `\nSoak summary (daemon CPU ${n(f.daemonCpuSeconds)} s, SIGTERM to exit ${n(f.stopSeconds, 2)} s; sink: ${f.sink}${f.sinkCpuSeconds === undefined ? '' : `, its CPU ${n(f.sinkCpuSeconds)} s`}, ${f.sinkSessions} sink sessions ended; daemon deliveries ${JSON.stringify(f.deliveries)}; /audit reader read ${f.auditEvents} events, ${n(f.auditDropped, 0)} dropped for slow subscribers)`,
  );
  console.log('\n  quarter of the load | samples | RSS MiB min–max | heap used MiB min–max | fds min–max');
  console.log('  ---:|---:|---|---|---');
  for (const q of v.quarters)
    console.log(
      `  Q${q.quarter} | ${q.samples} | ${q.rssMiB.join('–')} | ${q.heapUsedMiB.join('–')} | ${q.fds.join('–')}`,
    );
  console.log(`  delivered within 90 s of the load's end: ${verdictWord(v.drained)} — ${v.drained.detail}`);
  console.log(`  RSS flat:  ${verdictWord(v.rss)} — ${v.rss.detail}`);
  console.log(`  heap flat: ${verdictWord(v.heap)} — ${v.heap.detail}`);
  console.log(`  fds flat:  ${verdictWord(v.fds)} — ${v.fds.detail}`);
  if (f.delivered > f.accepted)
    console.log(
      `  NOTE: the sink counted ${f.delivered - f.accepted} more transactions than were accepted (duplicates?)`,
    );
  if (f.daemonExit) console.log(`  DAEMON ${f.daemonExit} during the soak`);
  if (f.auditEnded) console.log(`  the /audit stream stopped: ${f.auditEnded}`);
  return row;
}

async function qscaleRow(
  base: string,
  opts: { recipients: number; perMessage: number },
): Promise<Record<string, unknown>> {
  const f = await runQueueScale(base, opts);
  const { load, restart } = f;
  const allWaiting = restart.depthSeconds !== undefined;
  const row = {
    workload: 'QSCALE',
    recipients: f.recipients,
    messages: load.messages,
    perMessage: f.perMessage,
    bytes: f.bytes,
    loadSeconds: round(load.seconds),
    msgsPerSecond: round(load.messages / load.seconds),
    rcptsPerSecond: round(f.recipients / load.seconds),
    depthAfterLoad: load.depth,
    peakRssLoadingMiB: round(load.peakRssMiB),
    listeningSeconds: restart.listeningSeconds === undefined ? null : round(restart.listeningSeconds, 2),
    readySeconds: restart.readySeconds === undefined ? null : round(restart.readySeconds, 2),
    allWaitingSeconds: allWaiting ? round(restart.depthSeconds ?? 0, 2) : null,
    depthAfterRestart: restart.depth,
    peakRssRestartMiB: round(restart.peakRssMiB),
    claimUsPerMessage: {
      small: f.claimSmall.same.usPerMessage,
      loaded: f.claimLarge.same.usPerMessage,
      smallFresh: f.claimSmall.fresh.usPerMessage,
      loadedFresh: f.claimLarge.fresh.usPerMessage,
    },
    claim: { small: f.claimSmall, loaded: f.claimLarge },
    diskMiB: round(f.diskMiB),
  };
  console.log(
    '\nworkload | recipients | messages | load s | rcpts/s | peak RSS loading MiB | ready s | all waiting s | peak RSS after restart MiB | claim µs/msg at 1k msgs (same / fresh) | claim µs/msg loaded (same / fresh) | disk MiB',
  );
  console.log('---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:');
  console.log(
    `QSCALE | ${f.recipients} | ${load.messages} | ${row.loadSeconds} | ${row.rcptsPerSecond} | ${row.peakRssLoadingMiB} | ${row.readySeconds ?? 'never'} | ${row.allWaitingSeconds ?? `never (depth ${restart.depth})`} | ${row.peakRssRestartMiB} | ${f.claimSmall.same.usPerMessage} / ${f.claimSmall.fresh.usPerMessage} | ${f.claimLarge.same.usPerMessage} / ${f.claimLarge.fresh.usPerMessage} | ${row.diskMiB}`,
  );
  const bar = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');
  console.log(`\nQueue-scale bars (issue 12, for ${f.recipients} recipients):`);
  console.log(
    `  peak RSS under 300 MiB while loading: ${bar(load.peakRssMiB < 300)} (${round(load.peakRssMiB)} MiB); after the restart: ${bar(restart.peakRssMiB < 300)} (${round(restart.peakRssMiB)} MiB)`,
  );
  console.log(
    `  ready within 30 s of the restart: ${bar(restart.readySeconds !== undefined && restart.readySeconds <= 30)} (${n(restart.readySeconds, 2)} s), every recipient still waiting: ${bar(allWaiting)} (depth ${restart.depth})`,
  );
  const ratio = (a: number, b: number): number => round(a / b, 2);
  console.log(
    `  claim cost at ${f.claimLarge.messages} vs ${f.claimSmall.messages} messages waiting (${f.claimLarge.depth} vs ${f.claimSmall.depth} recipients): ${ratio(f.claimLarge.same.usPerMessage, f.claimSmall.same.usPerMessage)}× (same window), ${ratio(f.claimLarge.fresh.usPerMessage, f.claimSmall.fresh.usPerMessage)}× (fresh messages)`,
  );
  return row;
}
