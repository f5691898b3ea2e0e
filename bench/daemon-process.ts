/**
 * The built daemon as a child process for the benchmarks: spawn it (with
 * the bench's base environment under the caller's), learn its ports from
 * the "GopherPost listening" log line, stop it with SIGTERM, and read its
 * CPU time and peak RSS from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

/**
 * A daemon child process just spawned; `listening` resolves once it logs that it listens (rejects if it exits first).
 */
export interface SpawnedDaemon {
  readonly child: ChildProcess;
  readonly listening: Promise<{ port: number; httpPort: number | undefined }>;
}

/** Spawns the built daemon with `spool` and returns at once (callers that time start-up begin here). */
export function spawnDaemon(spool: string, env: Record<string, string> = {}): SpawnedDaemon {
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
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const listening = new Promise<{ port: number; httpPort: number | undefined }>((resolve, reject) => {
    let out = '';
    let found = false;
    child.stdout?.on('data', (d: Buffer) => {
      if (found) return; // keep draining the pipe, hold nothing
      out += d.toString();
      const line = /[^\n]*GopherPost listening[^\n]*/.exec(out)?.[0];
      if (!line) return;
      found = true;
      out = '';
      const http = /"http":(\d+)/.exec(line)?.[1];
      resolve({
        port: Number(/"port":(\d+)/.exec(line)?.[1]),
        httpPort: http === undefined ? undefined : Number(http),
      });
    });
    child.once('exit', (code) => reject(new Error(`daemon exited ${code}: ${out}`)));
  });
  return { child, listening };
}

/** Starts the built daemon on a free port with `spool`; resolves once it listens. */
export async function startDaemon(
  spool: string,
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; port: number; httpPort: number | undefined }> {
  const { child, listening } = spawnDaemon(spool, env);
  const { port, httpPort } = await listening;
  return { child, port, httpPort };
}

export async function stopDaemon(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return; // already gone (crashed)
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

export async function countEml(root: string): Promise<number> {
  let n = 0;
  for (const dir of (await readdir(root)).filter((d) => /^\d{4}-/.test(d))) {
    n += (await readdir(join(root, dir))).filter((f) => f.endsWith('.eml')).length;
  }
  return n;
}

/** Resets the peak RSS counter (VmHWM) of a process. */
export async function resetPeak(pid: number): Promise<void> {
  await writeFile(`/proc/${pid}/clear_refs`, '5').catch(() => undefined);
}

export async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /^VmHWM:\s+(\d+) kB/m.exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}

export async function cpuSeconds(pid: number): Promise<number> {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  return (Number(stat[11]) + Number(stat[12])) / 100;
}
