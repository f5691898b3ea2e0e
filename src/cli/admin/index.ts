import type { Command } from 'commander';
import type { AdminEnv } from './connection.js';
import { messagesCommand } from './messages.js';
import { processIo, type CliIo } from './output.js';
import { queueCommand } from './queue.js';
import { sendCommand } from './send.js';
import { tailCommand, type StopSignal } from './tail.js';

export { adminUrlFor } from './address.js';
export { CliError, EXIT } from './errors.js';
export type { AdminEnv } from './connection.js';
export type { CliIo } from './output.js';

/**
 * Mounts `queue`, `messages` and `tail` on the `gopherpost` program. They talk to a
 * running daemon: `env.adminUrl` from `adminUrlFor(SMTP_HEALTH_ADDR,
 * SMTP_HEALTH_PORT)`, `env.token` from SMTP_ADMIN_TOKEN (the caller reads the
 * environment). Failures reject `parseAsync` with a `CliError` carrying an
 * exit code.
 */
export function registerAdminCommands(
  program: Command,
  env: AdminEnv,
  io: CliIo = processIo,
  stopSignal?: StopSignal,
): void {
  program.addCommand(queueCommand(env, io));
  program.addCommand(messagesCommand(env, io));
  program.addCommand(tailCommand(env, io, stopSignal));
}

/** Mounts `send` (a quick test message through nodemailer). */
export function registerSendCommand(program: Command, io: CliIo = processIo): void {
  program.addCommand(sendCommand(io));
}
