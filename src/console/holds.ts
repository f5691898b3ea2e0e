/**
 * Destinations on hold (like Postfix's `postsuper -h`, but per destination
 * domain): their mail stays in the queue and is not delivered until released.
 *
 * In: the file to keep the set in (`holds.json` in SMTP_QUEUE_PATH). Out: a
 * synchronous `isHeld` for the scheduler and durable `hold`/`release`: each
 * change is written to a temporary file, fsynced and renamed over the old one
 * before its promise resolves, so a crash leaves either the old set or the new.
 */
import { readFile } from 'node:fs/promises';
import { writeStateFile } from '../spool/state-file.js';

export interface Holds {
  /** Whether mail to `domain` (lower-case) is held. */
  isHeld(domain: string): boolean;
  /** Held domains, sorted. */
  list(): readonly string[];
  /** Holds `domain`; false when it already was. */
  hold(domain: string): Promise<boolean>;
  /** Releases `domain`; false when it was not held. */
  release(domain: string): Promise<boolean>;
}

/** A destination domain as the admin API and CLI accept it: a host name, lower-cased. */
export function parseHoldDomain(input: string): string | undefined {
  const domain = input.trim().toLowerCase().replace(/\.$/, '');
  const label = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
  if (domain.length === 0 || domain.length > 253) return undefined;
  return domain.split('.').every((part) => label.test(part)) ? domain : undefined;
}

function parseFile(text: string, path: string): string[] {
  const data: unknown = JSON.parse(text);
  const held = (data as { held?: unknown }).held;
  if (!Array.isArray(held) || held.some((d) => typeof d !== 'string' || parseHoldDomain(d) !== d)) {
    throw new Error(`${path}: expected {"held": ["domain", …]}`);
  }
  return held as string[];
}

/** Reads the held set from `path` (absent: none held). A malformed file stops the start with its name. */
export async function openHolds(path: string): Promise<Holds> {
  let initial: string[] = [];
  try {
    initial = parseFile(await readFile(path, 'utf8'), path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const held = new Set(initial);
  let writing = Promise.resolve();

  const save = (): Promise<void> => {
    const text = `${JSON.stringify({ held: [...held].sort() })}\n`;
    const next = writing.then(() => writeStateFile(path, text));
    writing = next.catch(() => undefined);
    return next;
  };

  return {
    isHeld: (domain) => held.has(domain),
    list: () => [...held].sort(),
    hold: async (domain) => {
      if (held.has(domain)) return false;
      held.add(domain);
      await save().catch((error: unknown) => {
        held.delete(domain);
        throw error;
      });
      return true;
    },
    release: async (domain) => {
      if (!held.delete(domain)) return false;
      await save().catch((error: unknown) => {
        held.add(domain);
        throw error;
      });
      return true;
    },
  };
}
