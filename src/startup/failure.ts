/**
 * Why the daemon could not start, as an operator needs to read it.
 *
 * Owns: the sysexits(3) codes of start-up failures and the mapping from what
 *       a start-up stage threw to a message naming the variable to change.
 * In:   the error a stage threw and the configuration. Out: a `StartupError`
 *       (message, variables, exit code); `startupFailure` turns anything
 *       thrown by `startDaemon` into one. Pure.
 */
import type { Config } from '../config/types.js';
import { SYSEXITS } from '../sysexits.js';

/** sysexits(3) codes the daemon exits with when it cannot start (never a bare 1): which failure gets which. */
export const STARTUP_EXIT = {
  /** A service the daemon needs is not there (Redis down, a port taken). */
  unavailable: SYSEXITS.unavailable,
  /** A file the daemon keeps in the spool directory is malformed. */
  dataError: SYSEXITS.dataError,
  /** An error the daemon did not expect (a bug, a broken installation). */
  software: SYSEXITS.software,
  /** The spool directory cannot be created or written. */
  cantCreate: SYSEXITS.cantCreate,
  /** The spool exists but reading or recovering it failed. */
  ioError: SYSEXITS.ioError,
  /** Not allowed to bind a privileged port. */
  noPermission: SYSEXITS.noPermission,
  /** A configuration value is wrong (also used by config validation). */
  config: SYSEXITS.config,
} as const;

export type StartupExitCode = (typeof STARTUP_EXIT)[keyof typeof STARTUP_EXIT];

/** A start-up failure: what went wrong, which variables to look at, and the exit code. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
  constructor(
    message: string,
    readonly variables: readonly string[],
    readonly exitCode: StartupExitCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return error.errors.map(messageOf).join('; ');
  return error instanceof Error ? error.message || error.name : String(error);
}

/** The first `code` (and `path`) along the error's cause chain. */
function errnoOf(error: unknown): { code?: string; path?: string } {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const { code, path } = e as NodeJS.ErrnoException;
    if (typeof code === 'string') return { code, ...(typeof path === 'string' ? { path } : {}) };
  }
  return {};
}

/** The spool directory could not be created or written: the codes of a path that cannot be made or used. */
const CANNOT_CREATE = new Set([
  'EACCES',
  'EPERM',
  'EROFS',
  'ENOTDIR',
  'EEXIST',
  'ENOSPC',
  'EDQUOT',
  'ENOENT',
  'EISDIR',
]);

/** Opening the spool failed (file backend: the directory; redis backend: the server). */
export function spoolFailure(error: unknown, config: Pick<Config, 'queueBackend' | 'queuePath'>): StartupError {
  const text = messageOf(error);
  if (config.queueBackend === 'redis') {
    if (/NOAUTH|WRONGPASS|invalid password|invalid username/i.test(text))
      return new StartupError(
        `Redis refused the credentials: ${text}; check the user and password in SMTP_REDIS_URL`,
        ['SMTP_REDIS_URL'],
        STARTUP_EXIT.config,
        { cause: error },
      );
    return new StartupError(
      `${text}; start Redis there or point SMTP_REDIS_URL at a running server`,
      ['SMTP_REDIS_URL'],
      STARTUP_EXIT.unavailable,
      { cause: error },
    );
  }
  return spoolDirectoryFailure(error, config.queuePath);
}

/** The spool directory (or a directory under it) could not be created, written or read. */
export function spoolDirectoryFailure(error: unknown, queuePath: string): StartupError {
  const { code } = errnoOf(error);
  const create = code !== undefined && CANNOT_CREATE.has(code);
  const what = create ? 'cannot create or write the spool directory' : 'cannot open the spool';
  return new StartupError(
    `SMTP_QUEUE_PATH=${JSON.stringify(queuePath)}: ${what} (${messageOf(error)}); ` +
      'point SMTP_QUEUE_PATH at a directory the daemon can create and write',
    ['SMTP_QUEUE_PATH'],
    create ? STARTUP_EXIT.cantCreate : STARTUP_EXIT.ioError,
    { cause: error },
  );
}

/** A listener that could not bind: `variables` are the ones that choose its address and port. */
export function listenFailure(
  error: unknown,
  listener: { readonly what: string; readonly address: string; readonly variables: readonly string[] },
): StartupError {
  const { code } = errnoOf(error);
  const names = listener.variables.join(' / ');
  const at = `${listener.what} cannot listen on ${listener.address}`;
  const options = { cause: error };
  switch (code) {
    case 'EADDRINUSE':
      return new StartupError(
        `${at}: the address is already in use; stop what holds it or choose another with ${names}`,
        listener.variables,
        STARTUP_EXIT.unavailable,
        options,
      );
    case 'EACCES':
    case 'EPERM':
      return new StartupError(
        `${at}: permission denied; a port below 1024 needs CAP_NET_BIND_SERVICE, or choose another with ${names}`,
        listener.variables,
        STARTUP_EXIT.noPermission,
        options,
      );
    default:
      return new StartupError(
        `${at}: ${messageOf(error)}; check ${names} (an address of this host and a free port)`,
        listener.variables,
        STARTUP_EXIT.config,
        options,
      );
  }
}

/** The STARTTLS certificate could not be loaded (files) or made (the ephemeral development one). */
export function tlsFailure(error: unknown, config: Pick<Config, 'tlsCertPath' | 'tlsKeyPath'>): StartupError {
  const text = messageOf(error);
  if (config.tlsCertPath === undefined)
    return new StartupError(
      `${text}; set SMTP_TLS_CERT and SMTP_TLS_KEY to a certificate, or SMTP_TLS_DISABLE=true`,
      ['SMTP_TLS_CERT', 'SMTP_TLS_KEY'],
      STARTUP_EXIT.software,
      { cause: error },
    );
  const { path } = errnoOf(error);
  const variables = path === config.tlsKeyPath ? ['SMTP_TLS_KEY'] : ['SMTP_TLS_CERT', 'SMTP_TLS_KEY'];
  return new StartupError(
    `cannot use the TLS certificate (${text}); check ${variables.join(' and ')}`,
    variables,
    STARTUP_EXIT.config,
    { cause: error },
  );
}

/** The DKIM signer could not be made from the configured key. */
export function dkimFailure(error: unknown): StartupError {
  return new StartupError(
    `cannot sign with the DKIM key (${messageOf(error)}); check SMTP_DKIM_PRIVATE_KEY or SMTP_DKIM_KEY_PATH`,
    ['SMTP_DKIM_PRIVATE_KEY', 'SMTP_DKIM_KEY_PATH'],
    STARTUP_EXIT.config,
    { cause: error },
  );
}

/**
 * Anything `startDaemon` threw, as a `StartupError`. What no stage mapped is
 * unexpected: EX_SOFTWARE (70), with the error's own message, so it can be
 * reported; the installation check of smtp-server lands here too.
 */
/** The held destinations (`holds.json` in the spool directory) could not be read or are malformed. */
export function holdsFailure(error: unknown, path: string): StartupError {
  if (errnoOf(error).code !== undefined)
    return new StartupError(
      `cannot read the held destinations in ${path} (${messageOf(error)}); check SMTP_QUEUE_PATH`,
      ['SMTP_QUEUE_PATH'],
      STARTUP_EXIT.ioError,
      { cause: error },
    );
  return new StartupError(
    `the held destinations in ${path} are malformed (${messageOf(error)}): fix the file, or remove it to hold nothing`,
    ['SMTP_QUEUE_PATH'],
    STARTUP_EXIT.dataError,
    { cause: error },
  );
}

export function startupFailure(error: unknown): StartupError {
  if (error instanceof StartupError) return error;
  return new StartupError(`unexpected error: ${messageOf(error)}`, [], STARTUP_EXIT.software, { cause: error });
}
