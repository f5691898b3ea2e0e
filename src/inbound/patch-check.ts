/**
 * The start-up check behind `patchSmtpServer` (see patches.ts).
 *
 * Owns: what "smtp-server still has the methods a patch relies on" means.
 * In:   the library's three classes (the installed ones, or stand-ins in tests)
 *       and each patch's list of expectations.
 * Out:  a list of problems, each naming the patch and the method (empty when
 *       all is as expected), or `SmtpServerMismatch`, an Error whose message
 *       names them and the pinned version.
 *
 * An expectation is a method's shape: it is a function, takes `length`
 * parameters, its source text still contains each marker the patch relies on,
 * and, for a method a patch replaces whole, its source is the very text the
 * replacement was written from (a fingerprint), so an upstream fix to it cannot
 * be dropped silently.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';

/** The smtp-server version the patches were written for; package.json pins it exactly. */
export const PINNED_SMTP_SERVER = '3.21.6';

export type LibraryClassName = 'SMTPServer' | 'SMTPConnection' | 'SMTPStream';

/** A class as the check sees it: its prototype (whose `constructor` is the class, whole source text and all). */
export interface LibraryClass {
  readonly prototype: object;
}

export type SmtpServerLibrary = Readonly<Record<LibraryClassName, LibraryClass>>;

export interface Expectation {
  readonly on: LibraryClassName;
  /** A prototype method, or `constructor` for the class itself (its markers search the whole class). */
  readonly method: string;
  readonly length: number;
  /** Source text the patch relies on. */
  readonly markers?: readonly string[];
  /** `fingerprintOf` the method's source, for a method replaced whole. */
  readonly fingerprint?: string;
}

export interface PatchRequirements {
  /** A short name for messages: which patch would break. */
  readonly name: string;
  readonly expects: readonly Expectation[];
}

/** A patch: what it relies on, and the change itself. */
export interface Patch extends PatchRequirements {
  apply(): void;
}

/** A smtp-server whose methods are not the ones the patches were written for. */
export class SmtpServerMismatch extends Error {
  override readonly name = 'SmtpServerMismatch';

  constructor(
    readonly problems: readonly string[],
    installed: string,
  ) {
    super(
      `smtp-server ${installed} is not what GopherPost's patches were written for (pinned: smtp-server@${PINNED_SMTP_SERVER}):\n` +
        problems.map((problem) => `  - ${problem}`).join('\n') +
        `\nInstall the pinned version (npm ci), or review src/inbound/patches.ts against the new one.`,
    );
  }
}

/** The first 16 hex digits of the SHA-256 of a function's source text. */
export function fingerprintOf(fn: unknown): string {
  return createHash('sha256').update(Function.prototype.toString.call(fn)).digest('hex').slice(0, 16);
}

/** Every way the library differs from what the patches expect; empty when none. */
export function checkSmtpServer(library: SmtpServerLibrary, patches: readonly PatchRequirements[]): string[] {
  return patches.flatMap((patch) =>
    patch.expects.flatMap((expectation) =>
      problemsOf(library, expectation).map((problem) => `${problem} (patch: ${patch.name})`),
    ),
  );
}

/** Throws `SmtpServerMismatch` when `checkSmtpServer` finds anything. */
export function assertSmtpServer(library: SmtpServerLibrary, patches: readonly PatchRequirements[]): void {
  const problems = checkSmtpServer(library, patches);
  if (problems.length > 0) throw new SmtpServerMismatch(problems, installedSmtpServerVersion());
}

/** The version in node_modules/smtp-server/package.json ("unknown" if it cannot be read). */
export function installedSmtpServerVersion(): string {
  try {
    const manifest = createRequire(import.meta.url)('smtp-server/package.json') as { version?: unknown };
    return typeof manifest.version === 'string' ? manifest.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

function problemsOf(library: SmtpServerLibrary, expected: Expectation): string[] {
  const owner = library[expected.on];
  const where =
    expected.method === 'constructor' ? `class ${expected.on}` : `${expected.on}.prototype.${expected.method}`;
  const value: unknown = (owner.prototype as Record<string, unknown>)[expected.method];
  if (typeof value !== 'function') return [`${where} is missing (found ${typeof value})`];
  const problems: string[] = [];
  if (value.length !== expected.length)
    problems.push(`${where} takes ${value.length} parameters, expected ${expected.length}`);
  const source = Function.prototype.toString.call(value);
  for (const marker of expected.markers ?? []) {
    if (!source.includes(marker)) problems.push(`${where} no longer contains \`${marker}\``);
  }
  if (expected.fingerprint !== undefined) {
    const found = fingerprintOf(value);
    if (found !== expected.fingerprint)
      problems.push(`${where} has changed (source fingerprint ${found}, expected ${expected.fingerprint})`);
  }
  return problems;
}
