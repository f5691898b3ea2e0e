import { SYSEXITS } from '../sysexits.js';

/** One reason the configuration was refused. `value` is already masked if secret. */
export interface ConfigProblem {
  readonly variable: string;
  readonly value: string;
  readonly expected: string;
}

/** Exit status for a configuration error (sysexits.h EX_CONFIG), used by the CLI. */
export const CONFIG_EXIT_CODE = SYSEXITS.config;

const MAX_SHOWN_VALUE = 200;

/** `SMTP_PORT="abc": expected an integer port 1-65535` */
export function formatProblem(problem: ConfigProblem): string {
  const shown = problem.value.length > MAX_SHOWN_VALUE ? `${problem.value.slice(0, MAX_SHOWN_VALUE)}…` : problem.value;
  return `${problem.variable}=${JSON.stringify(shown)}: expected ${problem.expected}`;
}

/** Every problem found in the environment, one per line in `message`. */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
    this.problems = Object.freeze(problems.map((p) => Object.freeze({ ...p })));
  }
}
