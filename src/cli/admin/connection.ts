import type { Command } from 'commander';
import { createAdminClient, type AdminClient } from './client.js';

/** Where the admin commands find the daemon: from the environment, overridable per command. */
export interface AdminEnv {
  /**
   * Base URL (see `adminUrlFor`). A function is called only when an admin
   * command runs, so a bad SMTP_HEALTH_ADDR cannot break `serve` or `--help`.
   */
  readonly adminUrl: string | (() => string);
  /** SMTP_ADMIN_TOKEN */
  readonly token?: string | undefined;
}

interface ConnectionOptions {
  readonly url?: string;
  readonly token?: string;
  readonly json?: boolean;
}

/** `--url`, `--token` and `--json`, declared on a parent command and read by its sub-commands. */
export function addConnectionOptions(command: Command, env: AdminEnv): Command {
  return command
    .option(
      '--url <url>',
      'admin API base URL (default from SMTP_HEALTH_ADDR / SMTP_HEALTH_PORT)',
      typeof env.adminUrl === 'string' ? env.adminUrl : undefined,
    )
    .option('--token <token>', 'bearer token (default: SMTP_ADMIN_TOKEN; prefer the variable, arguments show in ps)')
    .option('--json', 'print the API response as JSON');
}

/** The daemon's base URL and token for `command`: its options first, then the environment. */
export function connectionOf(
  command: Command,
  env: AdminEnv,
): { baseUrl: string; token: string | undefined; json: boolean } {
  const options = command.optsWithGlobals<ConnectionOptions>();
  const baseUrl = options.url ?? (typeof env.adminUrl === 'string' ? env.adminUrl : env.adminUrl());
  return { baseUrl, token: options.token ?? env.token, json: options.json === true };
}

export function connect(command: Command, env: AdminEnv): { client: AdminClient; json: boolean } {
  const { baseUrl, token, json } = connectionOf(command, env);
  return { client: createAdminClient({ baseUrl, token }), json };
}
