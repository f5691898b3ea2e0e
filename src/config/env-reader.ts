/** Reads variables one at a time and collects every problem instead of stopping at the first. */
import { ConfigError, type ConfigProblem } from './errors.js';
import type { Field } from './schemas.js';
import { maskValue, VARIABLES, type VariableName } from './variables.js';

export type Env = Readonly<Record<string, string | undefined>>;

export class EnvReader {
  private readonly found: ConfigProblem[] = [];
  private readonly failed = new Set<string>();

  constructor(private readonly env: Env) {}

  /** The variable's text; an empty string counts as unset. */
  raw(name: VariableName): string | undefined {
    const value = this.env[name];
    return value === '' ? undefined : value;
  }

  /** The parsed value, undefined if unset (or invalid: then a problem is recorded). */
  optional<T>(name: VariableName, field: Field<T>): T | undefined {
    const text = this.raw(name);
    if (text === undefined) return undefined;
    const result = field.safeParse(text);
    if (result.success) return result.data;
    this.problem(name, result.error.issues[0]?.message ?? 'a valid value');
    return undefined;
  }

  /** The parsed value, or `fallback` when unset (or invalid: then a problem is recorded). */
  read<T>(name: VariableName, field: Field<T>, fallback: T): T {
    return this.optional(name, field) ?? fallback;
  }

  /** Records that `name` (showing its masked value) should have been `expected`. */
  problem(name: VariableName, expected: string): void {
    this.failed.add(name);
    this.found.push({ variable: name, value: maskValue(name, this.raw(name) ?? ''), expected });
  }

  /** Whether every named variable parsed (so a cross-field rule may look at them). */
  valid(...names: VariableName[]): boolean {
    return names.every((name) => !this.failed.has(name));
  }

  throwIfProblems(): void {
    if (this.found.length === 0) return;
    // In the order of the SPEC's tables, whatever order they were found in (sort is stable).
    const rank = (problem: ConfigProblem) => VARIABLES.indexOf(problem.variable as VariableName);
    throw new ConfigError([...this.found].sort((a, b) => rank(a) - rank(b)));
  }
}
