/**
 * The durable cache of MTA-STS policies (RFC 8461 §5.1): one JSON file,
 * `mta-sts.json` in SMTP_QUEUE_PATH, for either queue backend. A policy
 * cached with `enforce` keeps protecting its domain across restarts while
 * its max_age runs, even when an attacker blocks the policy fetch.
 *
 * Changes are written in the background (coalesced; a temporary file
 * fsynced and renamed over the old one), so a delivery never waits for the
 * disk. A missing or unreadable file starts an empty cache: it only costs
 * fetches. Expired policies are dropped when read, looked up or written;
 * past `maxEntries` domains the oldest entry goes, a `testing` one before any
 * `enforce` one (memory follows the destinations mailed, within a bound).
 */
import { readFile } from 'node:fs/promises';
import { writeStateFile } from '../../spool/state-file.js';
import { parseStsPolicy, type StsPolicy } from './sts-policy.js';

export interface CachedPolicy {
  /** The TXT record's id the policy was fetched under. */
  readonly id: string;
  readonly policy: StsPolicy;
  /** ms since the epoch. */
  readonly fetchedAt: number;
  /** fetchedAt + max_age. */
  readonly expiresAt: number;
}

export interface StsCache {
  get(domain: string): CachedPolicy | undefined;
  /** Stores `entry`; written to disk soon after. */
  set(domain: string, entry: CachedPolicy): void;
  /** Resolves once every change so far is on disk (or failed to be). */
  flush(): Promise<void>;
}

export interface StsCacheOptions {
  readonly clock: () => number;
  /** A failed read or write (the cache goes on in memory). */
  readonly onError?: (message: string) => void;
  /** Most domains kept. Default 10,000. */
  readonly maxEntries?: number;
}

/** The entry to drop from a full cache: the oldest `testing` one, else the oldest. */
function evictionOf(entries: ReadonlyMap<string, CachedPolicy>): string | undefined {
  let oldest: string | undefined;
  for (const [domain, entry] of entries) {
    if (entry.policy.mode !== 'enforce') return domain;
    oldest ??= domain;
  }
  return oldest;
}

function policyText(p: StsPolicy): string {
  return ['version: STSv1', `mode: ${p.mode}`, ...p.mx.map((m) => `mx: ${m}`), `max_age: ${p.maxAge}`].join('\n');
}

/** One entry of the file, checked field by field (the policy re-parsed as text). */
function entryOf(value: unknown): CachedPolicy | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const { id, fetchedAt, expiresAt, policy } = v;
  if (typeof id !== 'string' || typeof fetchedAt !== 'number' || typeof expiresAt !== 'number') return undefined;
  if (typeof policy !== 'string') return undefined;
  const parsed = parseStsPolicy(policy);
  return parsed.ok ? { id, policy: parsed.value, fetchedAt, expiresAt } : undefined;
}

async function load(path: string, now: number, onError: (message: string) => void): Promise<Map<string, CachedPolicy>> {
  const entries = new Map<string, CachedPolicy>();
  try {
    const data = JSON.parse(await readFile(path, 'utf8')) as { policies?: unknown };
    const policies = typeof data.policies === 'object' && data.policies !== null ? data.policies : {};
    for (const [domain, value] of Object.entries(policies)) {
      const entry = entryOf(value);
      if (entry && entry.expiresAt > now) entries.set(domain, entry);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT')
      onError(`${path}: ${error instanceof Error ? error.message : String(error)}; starting empty`);
  }
  return entries;
}

export async function openStsCache(path: string, options: StsCacheOptions): Promise<StsCache> {
  const onError = options.onError ?? (() => undefined);
  const entries = await load(path, options.clock(), onError);
  let writing = Promise.resolve();
  let pending = false;

  const save = (): void => {
    if (pending) return;
    pending = true;
    writing = writing.then(async () => {
      pending = false;
      const now = options.clock();
      const policies: Record<string, unknown> = {};
      for (const [domain, e] of entries) {
        if (e.expiresAt <= now) entries.delete(domain);
        else policies[domain] = { ...e, policy: policyText(e.policy) };
      }
      await writeStateFile(path, `${JSON.stringify({ version: 1, policies }, null, 1)}\n`).catch((error: unknown) =>
        onError(`${path}: ${error instanceof Error ? error.message : String(error)}`),
      );
    });
  };

  return {
    get: (domain) => {
      const entry = entries.get(domain);
      if (entry === undefined || entry.expiresAt > options.clock()) return entry;
      entries.delete(domain);
      return undefined;
    },
    set: (domain, entry) => {
      entries.delete(domain); // the Map's order is the order of setting: the oldest first
      entries.set(domain, entry);
      while (entries.size > (options.maxEntries ?? 10_000)) {
        const drop = evictionOf(entries);
        if (drop === undefined) break;
        entries.delete(drop);
      }
      save();
    },
    flush: () => writing,
  };
}
