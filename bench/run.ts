/**
 * `npm run bench`: the daemon's own figures (SPEC §8), measured against the
 * built daemon as a child process on loopback, with a fresh spool.
 *
 *   W1   20 sessions, 4 KiB messages, many per connection (durable msgs/s)
 *   W1c  the same, one message per connection
 *   W2   20 sessions, 100 KiB messages
 *   W3   20 concurrent 10 MiB messages: the server's peak RSS
 *
 * Options: --quick (fewer messages), --only W1,W3, BENCH_SPOOL=/dir (where the
 * spool lives; default a temp dir), BENCH_JSON=1 (machine-readable line).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLoad } from './smtp-load.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const quick = process.argv.includes('--quick');
const onlyArg = process.argv.find((a) => a.startsWith('--only='))?.slice(7);
const only = onlyArg ? new Set(onlyArg.split(',')) : undefined;

interface Workload {
  readonly name: string;
  readonly sessions: number;
  readonly total: number;
  readonly bytes: number;
  readonly perConnection: 0 | 1;
}

const workloads: Workload[] = [
  { name: 'W1', sessions: 20, total: quick ? 2000 : 10_000, bytes: 4096, perConnection: 0 },
  { name: 'W1c', sessions: 20, total: quick ? 1000 : 5000, bytes: 4096, perConnection: 1 },
  { name: 'W2', sessions: 20, total: quick ? 400 : 2000, bytes: 102_400, perConnection: 0 },
  { name: 'W3', sessions: 20, total: 20, bytes: 10_485_000, perConnection: 0 },
];

async function startDaemon(spool: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      SMTP_PORT: '0',
      SMTP_BIND: '127.0.0.1',
      SMTP_HOSTNAME: 'bench.localdomain',
      SMTP_DELIVERY_MODE: 'hold',
      SMTP_ALLOW_NETWORKS: '127.0.0.1/32',
      SMTP_REQUIRE_LOCAL_DOMAIN: 'false',
      SMTP_HEALTH_DISABLE: 'true',
      SMTP_QUEUE_PATH: spool,
      SMTP_MAX_MESSAGE_BYTES: String(12 * 1024 * 1024),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"port":(\d+)[^\n]*GopherPost listening/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`daemon exited ${code}: ${out}`)));
  });
  return { child, port };
}

async function countEml(root: string): Promise<number> {
  let n = 0;
  for (const dir of (await readdir(root)).filter((d) => /^\d{4}-/.test(d))) {
    n += (await readdir(join(root, dir))).filter((f) => f.endsWith('.eml')).length;
  }
  return n;
}

async function procStatus(pid: number, field: string): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}

async function cpuSeconds(pid: number): Promise<number> {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  return (Number(stat[11]) + Number(stat[12])) / 100;
}

async function main(): Promise<void> {
  const base = process.env.BENCH_SPOOL ?? (await mkdtemp(join(tmpdir(), 'gp-bench-')));
  console.log(`GopherPost inbound benchmark — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, spool ${base}`);
  console.log('workload | messages | sessions | size | msgs/s | MiB/s | server CPU s/1k msgs | peak RSS MiB | stored');
  console.log('---|---:|---:|---:|---:|---:|---:|---:|---');
  const results: Record<string, unknown>[] = [];
  for (const w of workloads) {
    if (only && !only.has(w.name)) continue;
    const spool = join(base, `${w.name}-${Date.now()}`);
    const { child, port } = await startDaemon(spool);
    const pid = child.pid ?? 0;
    try {
      await writeFile(`/proc/${pid}/clear_refs`, '5').catch(() => undefined);
      const cpuBefore = await cpuSeconds(pid);
      const result = await runLoad(port, w);
      const cpu = (await cpuSeconds(pid)) - cpuBefore;
      const peak = await procStatus(pid, 'VmHWM');
      const stored = await countEml(spool);
      const rate = result.messages / result.seconds;
      const row = {
        workload: w.name,
        messages: w.total,
        sessions: w.sessions,
        bytes: w.bytes,
        msgsPerSecond: Math.round(rate * 10) / 10,
        mibPerSecond: Math.round(((rate * w.bytes) / 2 ** 20) * 10) / 10,
        cpuPer1k: Math.round((cpu / w.total) * 1000 * 1000) / 1000,
        peakRssMiB: Math.round(peak * 10) / 10,
        stored,
      };
      results.push(row);
      console.log(
        `${w.name} | ${w.total} | ${w.sessions} | ${w.bytes} | ${row.msgsPerSecond} | ${row.mibPerSecond} | ${row.cpuPer1k} | ${row.peakRssMiB} | ${stored === w.total ? 'ok' : `MISMATCH ${stored}`}`,
      );
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      await rm(spool, { recursive: true, force: true });
    }
  }
  if (!process.env.BENCH_SPOOL) await rm(base, { recursive: true, force: true });
  if (process.env.BENCH_JSON) console.log(JSON.stringify(results));
}

await main();
