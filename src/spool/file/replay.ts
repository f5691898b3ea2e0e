import { open, readFile, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import type { MessageId, MessageRecord } from '../../domain/envelope.js';
import { fsyncDirectory, syncFilesystem } from './io/sync.js';
import { linkOnce, type Materializer } from './materialize.js';
import { segmentSeq, type SpoolPaths } from './paths.js';
import { decodeSegment, intactPrefix } from './wal-record.js';

interface Replayed {
  record: MessageRecord;
  body: Buffer | undefined; // inline body, or undefined when the body was spilled to tmp/
  deleted: boolean;
}

/** What a replay did: the final recipient states of every message the log touched (undefined: removed). */
export interface Replay {
  readonly nextSegment: number;
  readonly replayed: number;
  readonly states: ReadonlyMap<MessageId, MessageRecord['recipients'] | undefined>;
  /** Files written, for `finishReplay` to sync. */
  readonly touched: readonly string[];
  /** Segments replayed, for `finishReplay` to remove. */
  readonly segments: readonly string[];
}

/**
 * Brings the files in line with the write-ahead log after a stop or a crash:
 * every message the log acknowledged gets its body, links and newest state;
 * deletions are applied. `finishReplay` then syncs the files and removes the
 * segments (once the caller has written what else must outlive them).
 */
export async function replayLog(paths: SpoolPaths, materializer: Materializer): Promise<Replay> {
  const names = (await readdir(paths.wal)).filter((n) => segmentSeq(n) !== undefined).sort();
  const messages = new Map<MessageId, Replayed>();
  const states = new Map<MessageId, MessageRecord['recipients'] | undefined>();
  for (const name of names) {
    const seq = segmentSeq(name) ?? 0;
    const { records } = decodeSegment(await readSegment(`${paths.wal}/${name}`, seq), seq);
    for (const { entry, body } of records) {
      if (entry.t === 'msg') {
        messages.set(entry.record.id, { record: entry.record, body: entry.inline ? body : undefined, deleted: false });
      } else if (entry.t === 'state') {
        const known = messages.get(entry.id);
        if (known) known.record = { ...known.record, recipients: entry.recipients };
        else if (await applyStateToFile(paths, materializer, entry.id, entry.receivedAt, entry.recipients))
          states.set(entry.id, entry.recipients);
      } else {
        const known = messages.get(entry.id);
        if (known) known.deleted = true;
        else await materializer.remove(entry.id, entry.receivedAt, entry.recipients);
        states.set(entry.id, undefined);
      }
    }
  }
  const touched: string[] = [];
  for (const m of messages.values()) {
    const { id, envelope } = m.record;
    if (m.deleted) {
      await materializer.remove(id, envelope.receivedAt, envelope.recipients);
      await unlink(paths.tmpBody(id)).catch(() => undefined);
      states.set(id, undefined);
      continue;
    }
    touched.push(...(await restoreMessage(paths, materializer, m)));
    states.set(id, m.record.recipients);
  }
  const last = names.length > 0 ? (segmentSeq(names[names.length - 1] ?? '') ?? 0) : 0;
  return { nextSegment: last + 1, replayed: messages.size, states, touched, segments: names };
}

/** Syncs what the replay (and the caller, `extra`) wrote, then removes the replayed segments. */
export async function finishReplay(paths: SpoolPaths, replay: Replay, extra: readonly string[]): Promise<void> {
  if (replay.segments.length === 0) return;
  await syncFilesystem(paths.root, [...replay.touched, ...extra]);
  for (const name of replay.segments) await unlink(`${paths.wal}/${name}`);
  await fsyncDirectory(paths.wal);
}

async function restoreMessage(paths: SpoolPaths, materializer: Materializer, m: Replayed): Promise<string[]> {
  const { id, envelope, size } = m.record;
  const names = envelope.recipients.map((r) => paths.bodyFile(id, envelope.receivedAt, r));
  const first = names[0];
  if (first === undefined) return [];
  await materializer.ensureDir(paths.dateDir(envelope.receivedAt));
  let restored = (await sizeOf(first)) === size;
  if (!restored) {
    if (m.body) {
      const tmp = paths.tmpBody(id);
      await writeFile(tmp, m.body, { mode: 0o600 });
      await unlink(first).catch(() => undefined);
      await rename(tmp, first);
      restored = true;
    } else if ((await sizeOf(paths.tmpBody(id))) === size) {
      await rename(paths.tmpBody(id), first);
      restored = true;
    }
    // else: a spilled body whose file is gone cannot be restored; the state file
    // is still written so the message shows up (and fails) rather than vanishing.
  }
  // the other recipients' names link to the first; with no body there, there is nothing to link
  for (const name of restored ? names.slice(1) : []) {
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
): Promise<boolean> {
  try {
    const record = JSON.parse(await readFile(paths.stateFile(id, receivedAt), 'utf8')) as MessageRecord;
    await materializer.writeState({ ...record, recipients });
    return true;
  } catch {
    return false; // the message was removed since; nothing to update
  }
}

/**
 * Reads a segment's intact frames: a MiB at a time, stopping at the first
 * frame that cannot be intact (a reused or zero-filled segment holds 16 MiB
 * of old bytes behind a few new records), and never past the size the file
 * had (never an endless device).
 */
async function readSegment(path: string, seq: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    let data = Buffer.alloc(0);
    let checked = 0;
    while (data.length < size) {
      const chunk = Buffer.allocUnsafe(Math.min(SEGMENT_STEP, size - data.length));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, data.length);
      if (bytesRead === 0) break;
      data = Buffer.concat([data, chunk.subarray(0, bytesRead)]);
      const { end, more } = intactPrefix(data, seq, checked);
      checked = end;
      if (!more) break;
    }
    return data;
  } finally {
    await handle.close();
  }
}

const SEGMENT_STEP = 1024 * 1024;

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}
