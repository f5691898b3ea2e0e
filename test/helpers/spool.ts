/**
 * Spool helpers for tests: a file spool in a fresh temporary directory, one
 * message stored, every message (paging through), one body as bytes, the
 * ids a log segment holds.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Envelope, MessageId, MessageRecord } from '../../src/domain/envelope.js';
import { openFileSpool } from '../../src/spool/file-spool.js';
import { segmentName } from '../../src/spool/file/io/spare-pool.js';
import { decodeSegment } from '../../src/spool/file/wal-record.js';
import type { Spool } from '../../src/spool/spool.js';

export interface TempSpool {
  readonly dir: string;
  readonly spool: Spool;
  /** Closes the spool and removes its directory. */
  close(): Promise<void>;
}

export async function tempFileSpool(prefix = 'gp-spool-'): Promise<TempSpool> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const spool = await openFileSpool({ path: dir });
  return {
    dir,
    spool,
    async close() {
      await spool.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Stores `body` for `recipients`, from alice@sender.test unless `extra` says otherwise. */
export function storeMessage(
  spool: Pick<Spool, 'store'>,
  recipients: readonly string[],
  body: string,
  extra: Partial<Envelope> = {},
): Promise<MessageRecord> {
  return spool.store(
    {
      sender: 'alice@sender.test',
      recipients,
      clientAddress: '127.0.0.1',
      heloName: 'client.test',
      receivedAt: 0,
      ...extra,
    },
    (async function* () {
      yield Buffer.from(body);
    })(),
  );
}

export async function allMessages(spool: Pick<Spool, 'list'>, waiting = false): Promise<MessageRecord[]> {
  const out: MessageRecord[] = [];
  let after: string | undefined;
  do {
    const page = await spool.list({ limit: 1000, waiting, ...(after === undefined ? {} : { after }) });
    out.push(...page.items);
    after = page.next;
  } while (after !== undefined);
  return out;
}

export async function bodyBytes(spool: Pick<Spool, 'get' | 'openBody'>, id: MessageId): Promise<Buffer> {
  const record = await spool.get(id);
  if (!record) throw new Error(`no message ${id}`);
  const chunks: Buffer[] = [];
  for await (const chunk of await spool.openBody(record))
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** The message ids the `del` records of log segment `seq` in `walDir` name, in order (`?` for other records). */
export function idsInSegment(walDir: string, seq: number): string[] {
  return decodeSegment(readFileSync(join(walDir, segmentName(seq))), seq).records.map((r) =>
    r.entry.t === 'del' ? r.entry.id : '?',
  );
}
