/**
 * How busy the whole machine was during a long entry, to tell the
 * benchmark's own processes from other work running at the same time:
 * busy CPU seconds over all cores from /proc/stat (everything but idle and
 * iowait), the load average, and this bench process's own CPU time.
 */
import { readFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { round } from './sample.js';

const TICKS_PER_SECOND = 100;

export interface MachineMark {
  readonly at: number;
  readonly busySeconds: number;
  readonly benchCpuSeconds: number;
}

async function busySeconds(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8').catch(() => '')).split('\n')[0] ?? '';
  // cpu user nice system idle iowait irq softirq steal ...
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
}

export async function markMachine(): Promise<MachineMark> {
  const { user, system } = process.cpuUsage();
  return { at: Date.now(), busySeconds: await busySeconds(), benchCpuSeconds: (user + system) / 1e6 };
}

/** Busy CPU since `mark`: the machine's, and this bench process's (workers included). */
export async function machineSince(mark: MachineMark): Promise<{
  wallSeconds: number;
  cores: number;
  busySeconds: number;
  benchCpuSeconds: number;
  loadAverage: number[];
}> {
  const now = await markMachine();
  return {
    wallSeconds: round((now.at - mark.at) / 1000),
    cores: cpus().length,
    busySeconds: round(now.busySeconds - mark.busySeconds),
    benchCpuSeconds: round(now.benchCpuSeconds - mark.benchCpuSeconds),
    loadAverage: loadavg().map((x) => round(x, 2)),
  };
}
