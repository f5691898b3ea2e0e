import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/load.js';
import { startDaemon, type Daemon, type DaemonOptions } from '../../src/daemon.js';
import { createLogger } from '../../src/log/logger.js';

export interface TestDaemon {
  readonly daemon: Daemon;
  readonly port: number;
  readonly spoolDir: string;
  /** Log lines the daemon wrote (JSON). */
  readonly logs: string[];
  stop(): Promise<void>;
}

/**
 * Starts the real daemon in-process on ephemeral ports with a fresh spool.
 * `env` overrides the test defaults (hold mode, no HTTP, SMTP_HOSTNAME=mx.local.test);
 * `options` are the daemon's test seams (the MTA-STS policy host's port).
 */
export async function startTestDaemon(
  env: Record<string, string> = {},
  options: DaemonOptions = {},
): Promise<TestDaemon> {
  const spoolDir = await mkdtemp(join(tmpdir(), 'gp-daemon-'));
  const config = loadConfig(
    {
      SMTP_PORT: '0',
      SMTP_BIND: '127.0.0.1',
      SMTP_HOSTNAME: 'mx.local.test',
      SMTP_QUEUE_PATH: spoolDir,
      SMTP_HEALTH_DISABLE: 'true',
      SMTP_DELIVERY_MODE: 'hold',
      LOG_LEVEL: 'warn',
      ...env,
    },
    { hostname: 'mx.local.test' },
  );
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  const daemon = await startDaemon(config, createLogger(config.logLevel, sink), options);
  return {
    daemon,
    port: daemon.smtp.port,
    spoolDir,
    logs,
    stop: async () => {
      await daemon.stop(500);
      await rm(spoolDir, { recursive: true, force: true });
    },
  };
}
