import { SYSEXITS } from '../../sysexits.js';

/** The codes the admin commands end with: 1 for a failure the user should read, else sysexits(3). */
export const EXIT = {
  failure: 1,
  usage: SYSEXITS.usage,
  unavailable: SYSEXITS.unavailable,
  noPermission: SYSEXITS.noPermission,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * A command failed in a way the user should read (no stack trace). The
 * program's entry point prints `message` and exits with `exitCode`; commands
 * never call `process.exit` themselves.
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.failure,
  ) {
    super(message);
  }
}
