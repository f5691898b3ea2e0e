/**
 * QSCALE (issue 12's queue-scale bar): `recipients` waiting recipients
 * (default 1,000,000) as messages of `perMessage` recipients of one
 * destination, loaded through SMTP into the daemon in hold mode. Reports
 * the load rate and peak RSS while loading; then the restart on that spool
 * (spawn to /readyz 200, spawn to every recipient counted as waiting, peak
 * RSS after the restart); then the claim cost in process at 1,000 waiting
 * messages and on the loaded spool; and the disk the spool took.
 */
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { claimCost, type ClaimCost, type ClaimSeries } from './claim-cost.js';
import { loadHeld, type HeldLoad } from './held-load.js';
import { probeRestart, type RestartFigures } from './restart-probe.js';
import { round } from './sample.js';

export interface QueueScaleFigures {
  readonly recipients: number;
  readonly perMessage: number;
  readonly bytes: number;
  readonly load: HeldLoad;
  readonly restart: RestartFigures;
  readonly claimSmall: ClaimCost & { readonly messages: number };
  readonly claimLarge: ClaimCost & { readonly messages: number };
  readonly diskMiB: number;
}

const DOMAIN = 'qscale.test';
const SMALL_MESSAGES = 1000;

/** Disk space used under `dir` (du: allocated blocks, hard links once), MiB. */
async function diskMiB(dir: string): Promise<number> {
  const { stdout } = await promisify(execFile)('du', ['-sk', dir]);
  return Number(stdout.split(/\s/)[0]) / 1024;
}

function printClaim(c: ClaimCost & { messages: number }): void {
  const line = (x: ClaimSeries): string =>
    `${x.usPerMessage} µs per claimed message (${x.msPerRound} ms per claim of up to 100 and its releases, ${x.rounds} rounds, ${x.claimed} claimed)`;
  console.log(
    `claim cost with ${c.messages} messages (${c.depth} recipients) waiting, spool opened in process in ${c.openSeconds} s:`,
  );
  console.log(`  same window again: ${line(c.same)}`);
  console.log(`  fresh messages:    ${line(c.fresh)}`);
}

export async function runQueueScale(
  base: string,
  opts: { recipients: number; perMessage: number; bytes?: number },
): Promise<QueueScaleFigures> {
  const bytes = opts.bytes ?? 1024;
  const { recipients, perMessage } = opts;
  const messages = Math.ceil(recipients / perMessage);
  console.log(
    `\nQSCALE: ${recipients} waiting recipients as ${messages} messages of ${perMessage} recipients (${bytes} B bodies) to one domain, loaded through SMTP (20 sessions) into the daemon in hold mode`,
  );

  // claim cost on a small spool first: 1,000 messages of the same shape
  const smallSpool = join(base, `QSCALE-small-${Date.now()}`);
  let claimSmall: ClaimCost & { messages: number };
  try {
    const small = await loadHeld(smallSpool, {
      recipients: SMALL_MESSAGES * perMessage,
      perMessage,
      bytes,
      domain: DOMAIN,
    });
    console.log(
      `small spool: ${small.messages} messages (${small.recipients} recipients) loaded in ${round(small.seconds, 2)} s, depth ${small.depth}`,
    );
    claimSmall = { ...(await claimCost(smallSpool)), messages: SMALL_MESSAGES };
    printClaim(claimSmall);
  } finally {
    await rm(smallSpool, { recursive: true, force: true });
  }

  const spool = join(base, `QSCALE-${Date.now()}`);
  try {
    const load = await loadHeld(spool, { recipients, perMessage, bytes, domain: DOMAIN, printEverySeconds: 10 });
    console.log(
      `loading ${recipients} recipients (${messages} messages) through SMTP took ${round(load.seconds)} s: ${round(load.messages / load.seconds)} msgs/s, ${round(recipients / load.seconds)} recipients/s; ` +
        `peak RSS while loading ${round(load.peakRssMiB)} MiB (largest 2 s sample ${round(load.maxSampledRssMiB)}, at the end ${round(load.endRssMiB)}); depth after the load ${load.depth}; daemon CPU ${round(load.cpuSeconds)} s; SIGTERM to exit ${round(load.stopSeconds, 2)} s`,
    );

    console.log('restarting on the loaded spool (hold mode, HTTP on)');
    const restart = await probeRestart(spool, recipients);
    const s = (x: number | undefined): string => (x === undefined ? 'never (within 600 s)' : `${round(x, 2)} s`);
    console.log(
      `restart: listening after ${s(restart.listeningSeconds)}, /readyz 200 after ${s(restart.readySeconds)}, depth ${restart.depth} (${restart.depthSource}) reached ${recipients} after ${s(restart.depthSeconds)}; ` +
        `peak RSS ${round(restart.peakRssAtDepthMiB)} MiB at that point, ${round(restart.peakRssMiB)} MiB 10 s later (RSS then ${round(restart.rssMiB)} MiB)`,
    );

    const claimLarge = { ...(await claimCost(spool)), messages };
    printClaim(claimLarge);

    const disk = await diskMiB(spool);
    console.log(`spool on disk: ${round(disk)} MiB (du -sk ${spool}), removing it`);
    return { recipients, perMessage, bytes, load, restart, claimSmall, claimLarge, diskMiB: disk };
  } finally {
    await rm(spool, { recursive: true, force: true });
  }
}
