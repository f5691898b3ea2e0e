/**
 * The sysexits(3) codes GopherPost exits with, in one place: the start-up
 * failures (startup/failure.ts), the configuration check (config/errors.ts)
 * and the admin commands (cli/admin/errors.ts) each pick theirs from here.
 */
export const SYSEXITS = {
  /** EX_USAGE: the command was used wrongly. */
  usage: 64,
  /** EX_DATAERR: input data (a file the daemon keeps) is malformed. */
  dataError: 65,
  /** EX_UNAVAILABLE: a service needed is not there (Redis down, a port taken, the daemon unreachable). */
  unavailable: 69,
  /** EX_SOFTWARE: an error that was not expected (a bug, a broken installation). */
  software: 70,
  /** EX_CANTCREAT: a file or directory cannot be created. */
  cantCreate: 73,
  /** EX_IOERR: reading or writing failed. */
  ioError: 74,
  /** EX_NOPERM: not permitted. */
  noPermission: 77,
  /** EX_CONFIG: a configuration value is wrong. */
  config: 78,
} as const;
