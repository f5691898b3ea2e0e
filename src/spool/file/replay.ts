import { open, readFile, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import type { MessageId, MessageRecord } from '../../domain/envelope.js';
import { fsyncDirectory, syncFilesystem } from './fsync.js';
import { linkOnce, type Materializer } from './materialize.js';
import { segmentSeq, type SpoolPaths } from './paths.js';
import { decodeSegment } from './wal-record.js';

interface Replayed {
  record: MessageRecord;
  body: Buffer | undefined; // inline body, or undefined when the body was spilled to tmp/
  deleted: boolean;
}

/**
 * Brings the files in line with the write-ahead log after a stop or a crash:
 * every message the log acknowledged gets its body, links and newest state;
 * deletions are applied. Then the files are synced and the segments removed.
 * Returns the next segment number to use.
 */
export async function replayLog(paths: SpoolPaths, materializer: Materializer): Promise<{ nextSegment: number; replayed: number }> {
  const names = (await readdir(paths.wal)).filter((n) => segmentSeq(n) !== undefined).sort();
  const messages = new Map<MessageId, Replayed>();
  for (const name of names) {
    const { records } = decodeSegment(await readSegment(`${paths.wal}/${name}`), segmentSeq(name) ?? 0);
    for (const { entry, body } of records) {
      if (entry.t === 'msg') {
        messages.set(entry.record.id, { record: entry.record, body: entry.inline ? body : undefined, deleted: false });
      } else if (entry.t === 'state') {
        const known = messages.get(entry.id);
        if (known) known.record = { ...known.record, recipients: entry.recipients };
        else await applyStateToFile(paths, materializer, entry.id, entry.receivedAt, entry.recipients);
      } else {
        const known = messages.get(entry.id);
        if (known) known.deleted = true;
        else await materializer.remove(entry.id, entry.receivedAt, entry.recipients);
      }
    }
  }
  const touched: string[] = [];
  for (const m of messages.values()) {
    const { id, envelope } = m.record;
    if (m.deleted) {
      await materializer.remove(id, envelope.receivedAt, envelope.recipients);
      await unlink(paths.tmpBody(id)).catch(() => undefined);
      continue;
    }
    touched.push(...(await restoreMessage(paths, materializer, m)));
  }
  const last = names.length > 0 ? (segmentSeq(names[names.length - 1] ?? '') ?? 0) : 0;
  if (names.length > 0) {
    await syncFilesystem(paths.root, touched);
    for (const name of names) await unlink(`${paths.wal}/${name}`);
    await fsyncDirectory(paths.wal);
  }
  return { nextSegment: last + 1, replayed: messages.size };
}

async function restoreMessage(paths: SpoolPaths, materializer: Materializer, m: Replayed): Promise<string[]> {
  const { id, envelope, size } = m.record;
  const names = envelope.recipients.map((r) => paths.bodyFile(id, envelope.receivedAt, r));
  const first = names[0];
  if (first === undefined) return [];
  await materializer.ensureDir(paths.dateDir(envelope.receivedAt));
  if ((await sizeOf(first)) !== size) {
    if (m.body) {
      const tmp = paths.tmpBody(id);
      await writeFile(tmp, m.body, { mode: 0o600 });
      await unlink(first).catch(() => undefined);
      await rename(tmp, first);
    } else if ((await sizeOf(paths.tmpBody(id))) === size) {
      await rename(paths.tmpBody(id), first);
    }
    // else: a spilled body whose file is gone cannot be restored; the state file
    // is still written so the message shows up (and fails) rather than vanishing.
  }
  for (const name of names.slice(1)) {
    if ((await sizeOf(name)) !== size) {
      await unlink(name).catch(() => undefined);
      await linkOnce(first, name);
    }
  }
  const state = await materializer.writeState(m.record);
  return [...names, state];
}

async function applyStateToFile(
  paths: SpoolPaths,
  materializer: Materializer,
  id: MessageId,
  receivedAt: number,
  recipients: MessageRecord['recipients'],
): Promise<void> {
  try {
    const record = JSON.parse(await readFile(paths.stateFile(id, receivedAt), 'utf8')) as MessageRecord;
    await materializer.writeState({ ...record, recipients });
  } catch {
    // the message was removed since; nothing to update
  }
}

/** Reads a segment's bytes as sized on disk (never an endless device). */
async function readSegment(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const data = Buffer.alloc(size);
    let offset = 0;
    while (offset < size) {
      const { bytesRead } = await handle.read(data, offset, size - offset, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
    }
    return data.subarray(0, offset);
  } finally {
    await handle.close();
  }
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}
