import type { Command } from 'commander';
import {
  ConfigError,
  CONFIG_EXIT_CODE,
  describeConfig,
  loadConfig,
  readEnvironment,
  unknownVariables,
} from '../config/index.js';
import type { Config } from '../config/types.js';
import { createLogger } from '../log/logger.js';
import { adminUrlFor, CliError, registerAdminCommands, registerSendCommand } from './admin/index.js';
import { registerDkimCommands } from './dkim.js';
import { serve } from './serve.js';

/** Loads and validates the configuration; prints the problem and returns the exit code on failure. */
export function configOrExit(read: () => Record<string, string | undefined>): Config | number {
  try {
    return loadConfig(read());
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`gopherpost: invalid configuration\n${error.message}\n`);
      return CONFIG_EXIT_CODE;
    }
    throw error;
  }
}

function readEnvSafely(read: () => Record<string, string | undefined>): Record<string, string | undefined> {
  try {
    return read();
  } catch {
    return {}; // reported by the command that needs the configuration
  }
}

/** Builds the `gopherpost` command line and runs it; resolves with the exit code. */
export async function runCli(
  program: Command,
  argv: readonly string[],
  processEnv: NodeJS.ProcessEnv,
  cwd: string,
): Promise<number> {
  const readEnv = (): Record<string, string | undefined> => readEnvironment(cwd, processEnv);
  let exitCode = 0;
  program.name('gopherpost').description('GopherPost for Node.js: a durable SMTP daemon').showHelpAfterError();

  program
    .command('serve', { isDefault: true })
    .description('run the SMTP daemon (the default command)')
    .action(async () => {
      const config = configOrExit(readEnv);
      if (typeof config === 'number') {
        exitCode = config;
        return;
      }
      const logger = createLogger(config.logLevel);
      for (const name of unknownVariables(readEnv()))
        logger.warn({ variable: name }, 'unknown SMTP_* variable ignored');
      exitCode = await serve(config, logger);
    });

  const configCommand = program.command('config').description('configuration tools');
  configCommand
    .command('check')
    .description('validate the configuration and print the effective values (secrets masked); exit 78 on errors')
    .action(() => {
      const config = configOrExit(readEnv);
      if (typeof config === 'number') {
        exitCode = config;
        return;
      }
      for (const [name, value] of Object.entries(describeConfig(config))) process.stdout.write(`${name}=${value}\n`);
      for (const name of unknownVariables(readEnv())) process.stderr.write(`warning: unknown variable ${name}\n`);
    });

  registerAdminCommands(program, {
    adminUrl: () => {
      const env = readEnv();
      return adminUrlFor(env.SMTP_HEALTH_ADDR, env.SMTP_HEALTH_PORT);
    },
    token: readEnvSafely(readEnv).SMTP_ADMIN_TOKEN,
  });
  registerSendCommand(program);
  registerDkimCommands(program, { config: () => loadConfig(readEnv()), cwd });

  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CliError) {
      process.stderr.write(`gopherpost: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`gopherpost: invalid configuration\n${error.message}\n`);
      return CONFIG_EXIT_CODE;
    }
    throw error;
  }
  return exitCode;
}
