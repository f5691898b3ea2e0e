/**
 * strace(1) attached to a running daemon, for black-box checks of what it asks the kernel: which syscalls ran, on
 * which files and sockets, in which order (and, with `inject`, syscalls that fail as a dying disk would make them).
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/** Why strace cannot be used here, or undefined when it can (it must be installed and allowed to attach). */
export function straceUnavailable(): string | undefined {
  try {
    execFileSync('strace', ['-qq', '-e', 'trace=getpid', 'true'], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return `strace is not usable: ${String(error).split('\n')[0] ?? ''}`;
  }
}

export interface Tracer {
  /** Detaches (the daemon runs on untraced); resolves once strace has exited. */
  readonly detach: () => Promise<void>;
}

/** Attaches to every thread of `pid`, writing the trace to `output`; resolves once attached. */
export async function attachStrace(pid: number, output: string, options: readonly string[]): Promise<Tracer> {
  const strace = spawn('strace', ['-f', '-ttt', '-T', '-yy', '-s', '65536', '-o', output, ...options, '-p', `${pid}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => strace.once('exit', () => resolve()));
  let said = '';
  await new Promise<void>((resolve, reject) => {
    strace.stderr.on('data', (data: Buffer) => {
      said += data.toString();
      if (/Process \d+ attached/.test(said)) resolve();
    });
    void exited.then(() => reject(new Error(`strace exited before attaching: ${said}`)));
  });
  return {
    detach: async () => {
      strace.kill('SIGINT');
      await exited;
    },
  };
}

/** One finished syscall of a trace. */
export interface Syscall {
  readonly name: string;
  /** When it was entered and when it returned (seconds, strace's clock). */
  readonly start: number;
  readonly end: number;
  /** What strace printed between the parentheses (fds decoded to paths and addresses). */
  readonly args: string;
  readonly result: string;
}

const WHOLE = /^(\d+) +(\d+\.\d+) (\w+)\((.*)\) += (.*?) <(\d+\.\d+)>$/;
const UNFINISHED = /^(\d+) +(\d+\.\d+) (\w+)\((.*) <unfinished \.\.\.>$/;
const RESUMED = /^(\d+) +(\d+\.\d+) <\.\.\. (\w+) resumed>(.*)\) += (.*?) <(\d+\.\d+)>$/;

/** The syscalls of a trace written with `attachStrace`, in the order they were entered. */
export async function readTrace(path: string): Promise<Syscall[]> {
  const calls: Syscall[] = [];
  const open = new Map<string, { start: number; name: string; args: string }>();
  for (const line of (await readFile(path, 'utf8')).split('\n')) {
    const whole = groups(WHOLE.exec(line));
    if (whole) {
      const [, , start, name, args, result, took] = whole;
      calls.push({ name, start: Number(start), end: Number(start) + Number(took), args, result });
      continue;
    }
    const unfinished = groups(UNFINISHED.exec(line));
    if (unfinished) {
      const [, pid, start, name, args] = unfinished;
      open.set(pid, { start: Number(start), name, args });
      continue;
    }
    const resumed = groups(RESUMED.exec(line));
    const begun = resumed ? open.get(resumed[1]) : undefined;
    if (resumed && begun) {
      const [, pid, at, , rest, result] = resumed;
      open.delete(pid);
      calls.push({ ...begun, args: begun.args + rest, end: Number(at), result });
    }
  }
  return calls.sort((a, b) => a.start - b.start);
}

/** A match's groups as plain strings (seven: every pattern above has at most six groups). */
function groups(match: RegExpExecArray | null): [string, string, string, string, string, string, string] | undefined {
  if (!match) return undefined;
  const at = (i: number): string => match[i] ?? '';
  return [at(0), at(1), at(2), at(3), at(4), at(5), at(6)];
}
