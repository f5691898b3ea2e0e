import type { Config } from '../config/types.js';
import { startDaemon, type Daemon } from '../daemon.js';
import type { Logger } from '../log/logger.js';
import { startupFailure } from '../startup/failure.js';

/** Grace period for open sessions and deliveries after SIGTERM/SIGINT. */
const GRACE_MS = 10_000;

/**
 * Runs the daemon until SIGTERM/SIGINT (graceful stop, exit 0); SIGHUP reloads
 * TLS certificates. Signals are handled from the first moment: one that
 * arrives during start-up stops the daemon as soon as it is up. Resolves with
 * the process exit code: 0 after a stop, a sysexits code when it could not
 * start (startup/failure.ts).
 */
export function serve(config: Config, logger: Logger): Promise<number> {
  return new Promise<number>((resolve) => {
    let daemon: Daemon | undefined;
    let stopSignal: string | undefined;
    const stop = (signal: string): void => {
      if (stopSignal) return;
      stopSignal = signal;
      logger.info({ signal }, 'stopping');
      if (daemon) finish(daemon);
    };
    const finish = (running: Daemon): void => {
      process.off('SIGHUP', onHup);
      running.stop(GRACE_MS).then(
        () => resolve(0),
        (error: unknown) => {
          logger.error({ err: String(error) }, 'unclean stop');
          resolve(1);
        },
      );
    };
    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    const onHup = (): void => {
      daemon?.reload().catch((error: unknown) => logger.error({ err: String(error) }, 'reload failed'));
    };
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    process.on('SIGHUP', onHup);
    startDaemon(config, logger).then(
      (running) => {
        daemon = running;
        if (stopSignal) finish(running);
      },
      (error: unknown) => {
        // startDaemon names the variable to change and the sysexits code (startup/failure.ts)
        const failure = startupFailure(error);
        logger.fatal(
          { err: failure.message, variables: failure.variables, exitCode: failure.exitCode },
          'could not start',
        );
        resolve(failure.exitCode);
      },
    );
  });
}
