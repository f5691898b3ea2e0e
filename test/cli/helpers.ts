import { Command, CommanderError } from 'commander';
import { registerAdminCommands, registerSendCommand, type AdminEnv, type CliIo } from '../../src/cli/admin/index.js';
import type { StopSignal } from '../../src/cli/admin/tail.js';

export interface RunResult {
  readonly stdout: string;
  readonly bytes: Buffer;
  /** Notices written to stderr. */
  readonly stderr: string;
  /** The error `parseAsync` rejected with, if any. */
  readonly error: unknown;
}

/** A `gopherpost`-like program with the admin and send commands, run in-process. */
export async function runCli(
  args: readonly string[],
  env: AdminEnv = { adminUrl: 'http://127.0.0.1:1' },
  live: {
    readonly stopSignal?: StopSignal;
    readonly onOut?: (text: string) => void;
    readonly onErr?: (text: string) => void;
  } = {},
): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const chunks: Buffer[] = [];
  const io: CliIo = {
    out: (text) => {
      stdout += text;
      live.onOut?.(text);
    },
    err: (text) => {
      stderr += text;
      live.onErr?.(text);
    },
    outBytes: (chunk) => {
      chunks.push(Buffer.from(chunk));
      return Promise.resolve();
    },
  };
  const program = new Command('gopherpost').exitOverride().configureOutput({
    writeOut: (text) => void (stdout += text),
    writeErr: (text) => void (stdout += text),
  });
  registerAdminCommands(program, env, io, live.stopSignal);
  registerSendCommand(program, io);
  // Commander copies exitOverride/configureOutput to commands created with .command(), not to added ones.
  const apply = (command: Command): void => {
    command.exitOverride().configureOutput({
      writeOut: (text) => void (stdout += text),
      writeErr: (text) => void (stdout += text),
    });
    command.commands.forEach(apply);
  };
  program.commands.forEach(apply);
  let error: unknown;
  try {
    await program.parseAsync(['node', 'gopherpost', ...args]);
  } catch (err: unknown) {
    error = err;
  }
  return { stdout, stderr, bytes: Buffer.concat(chunks), error };
}

export function isHelpExit(error: unknown): boolean {
  return error instanceof CommanderError && error.code === 'commander.helpDisplayed';
}
