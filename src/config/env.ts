/**
 * readEnvironment: the one place that looks at the process environment. It
 * merges `<cwd>/.env` (or the file named by ENV_FILE) under the process
 * environment and returns a new object; process.env is never changed.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'dotenv';
import { ConfigError } from './errors.js';

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}

/**
 * The variables to configure the daemon from. ENV_FILE (from the process
 * environment, relative to `cwd`) replaces `.env` and must be readable; a
 * missing `.env` is fine. A process variable wins over the file unless it is
 * empty (empty means unset everywhere in the config).
 */
export function readEnvironment(cwd: string, processEnv: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const envFile = processEnv['ENV_FILE'];
  const explicit = envFile !== undefined && envFile !== '';
  const file = resolve(cwd, explicit ? envFile : '.env');
  let fromFile: Record<string, string> = {};
  try {
    fromFile = parse(readFileSync(file));
  } catch (error) {
    if (explicit || errorCode(error) !== 'ENOENT') {
      const expected = `a readable dotenv file (${errorCode(error)})`;
      throw new ConfigError([{ variable: 'ENV_FILE', value: explicit ? envFile : file, expected }]);
    }
  }
  const merged: Record<string, string | undefined> = { ...fromFile };
  for (const [name, value] of Object.entries(processEnv)) {
    if (value !== undefined && (value !== '' || !Object.hasOwn(fromFile, name))) merged[name] = value;
  }
  return merged;
}
