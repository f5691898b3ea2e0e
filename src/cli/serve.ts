import type { Config } from '../config/types.js';
import { startDaemon } from '../daemon.js';
import type { Logger } from '../log/logger.js';

/** Grace period for open sessions and deliveries after SIGTERM/SIGINT. */
const GRACE_MS = 10_000;

/**
 * Runs the daemon until SIGTERM/SIGINT (graceful stop, exit 0); SIGHUP reloads
 * TLS certificates. Resolves with the process exit code.
 */
export async function serve(config: Config, logger: Logger): Promise<number> {
  let daemon;
  try {
    daemon = await startDaemon(config, logger);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    logger.fatal({ err: message }, 'could not start');
    return 1;
  }
  const running = daemon;
  return new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, 'stopping');
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
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
      running.reload().catch((error: unknown) => logger.error({ err: String(error) }, 'reload failed'));
    };
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    process.on('SIGHUP', onHup);
  });
}
