import { expect } from 'vitest';
import { ConfigError, type ConfigProblem } from '../../src/config/errors.js';
import { loadConfig, type ConfigFacts } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';

/** Facts that do not depend on the machine running the tests. */
export const FACTS: ConfigFacts = {
  hostname: 'mx.example.test',
  readFile: (path) => {
    throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
  },
};

export function load(env: Record<string, string | undefined>, facts: ConfigFacts = FACTS): Config {
  return loadConfig(env, facts);
}

/** The ConfigError thrown for `env`; fails the test if the config loads. */
export function configError(env: Record<string, string | undefined>, facts: ConfigFacts = FACTS): ConfigError {
  try {
    loadConfig(env, facts);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

/** The only problem for `env`. */
export function soleProblem(env: Record<string, string | undefined>, facts: ConfigFacts = FACTS): ConfigProblem {
  const { problems } = configError(env, facts);
  expect(problems).toHaveLength(1);
  const [problem] = problems;
  if (problem === undefined) throw new Error('unreachable');
  return problem;
}
