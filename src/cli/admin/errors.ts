/** sysexits(3) codes the admin commands end with. */
export const EXIT = {
  failure: 1,
  usage: 64,
  unavailable: 69,
  noPermission: 77,
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
