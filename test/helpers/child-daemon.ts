import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

export interface ChildDaemon {
  readonly child: ChildProcess;
  readonly port: number;
  readonly output: () => string;
  /** Resolves with the exit code (or the signal name). */
  readonly exited: Promise<number | string>;
}

/** Runs the built daemon (`dist/`) as a child process and waits until SMTP listens. */
export async function startChildDaemon(env: Record<string, string>): Promise<ChildDaemon> {
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      SMTP_PORT: '0',
      SMTP_BIND: '127.0.0.1',
      SMTP_HOSTNAME: 'mx.local.test',
      SMTP_HEALTH_DISABLE: 'true',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // never leave a half-started daemon behind
      reject(new Error(`daemon did not start:\n${output}`));
    }, 15_000);
    const onData = (data: Buffer): void => {
      output += data.toString();
      const match = /"port":(\d+)[^\n]*"msg":"GopherPost listening"/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited (${code}) before listening:\n${output}`));
    });
  });
  return { child, port, output: () => output, exited };
}

/** The HTTP port of a child daemon started with SMTP_HEALTH_ADDR=127.0.0.1:0, from its log line. */
export function httpPortOf(d: ChildDaemon): number {
  const match = /"port":(\d+)[^\n]*"msg":"HTTP server listening"/.exec(d.output());
  if (!match) throw new Error(`HTTP did not listen:\n${d.output()}`);
  return Number(match[1]);
}
