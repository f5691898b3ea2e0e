/**
 * Start-up of the file spool: the due index is loaded from the due journal,
 * the write-ahead log is replayed (bodies, links and states a crash left
 * unwritten), the index learns what the replay changed, and only then are
 * the replayed segments dropped. A spool without a due journal (made before
 * it existed, or whose `due/` folder was removed) is indexed by reading every
 * state file once.
 *
 * In: the spool's paths. Out: the loaded index and its files, and the log
 * opened for appending.
 */
import { appendFile, readFile, readdir, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { MessageId, MessageRecord } from '../../domain/envelope.js';
import { DueFiles, applyRecords } from './due-files.js';
import type { DueIndex } from './due-index.js';
import { encodeJournalRecord, journalRecordOf, type JournalRecord } from './due-journal.js';
import { GroupCommitLog } from './group-commit-log.js';
import { Materializer } from './materialize.js';
import { makeDirs } from './make-dirs.js';
import { isDateDir, isMessageId, type SpoolPaths } from './paths.js';
import { finishReplay, replayLog } from './replay.js';

export interface Recovered {
  readonly materializer: Materializer;
  readonly index: DueIndex;
  readonly files: DueFiles;
  readonly wal: GroupCommitLog;
  /** False when the spool had no due journal: the caller writes one from the index. */
  readonly hadJournal: boolean;
}

export async function recover(paths: SpoolPaths, preallocate: boolean): Promise<Recovered> {
  for (const dir of [paths.root, paths.tmp, paths.wal]) await makeDirs(dir, 0o700);
  const materializer = new Materializer(paths);
  const { files, index, exists } = await DueFiles.load(paths.due);
  const replay = await replayLog(paths, materializer);
  // the index learns what the replay changed; written to the journal before the segments go
  const records = exists ? [...replayedRecords(replay.states)] : await rebuildRecords(paths);
  if (records.length > 0) {
    await appendFile(files.path, Buffer.concat(records.map(encodeJournalRecord)), { mode: 0o600 });
    applyRecords(index, records);
    files.appendedRecords(records.length);
  }
  await finishReplay(paths, replay, [files.path]);
  await clearDirectory(paths.tmp);
  const wal = await GroupCommitLog.open(paths.wal, replay.nextSegment, { preallocate });
  await wal.useJournal(files.path);
  return { materializer, index, files, wal, hadJournal: exists };
}

function* replayedRecords(
  states: ReadonlyMap<MessageId, MessageRecord['recipients'] | undefined>,
): Generator<JournalRecord> {
  for (const [id, recipients] of states) {
    if (!recipients) yield { kind: 'drop', id };
    else
      yield journalRecordOf({
        id,
        recipients,
        envelope: { sender: '', recipients: [], clientAddress: '', heloName: '', receivedAt: 0 },
        size: 0,
      });
  }
}

/**
 * The waiting messages of a spool without a due journal, from every state
 * file; bodies without a state file (left by a crash of an older version
 * mid-store) are removed.
 */
async function rebuildRecords(paths: SpoolPaths): Promise<JournalRecord[]> {
  const records: JournalRecord[] = [];
  for (const dir of (await readdir(paths.root)).filter(isDateDir)) {
    const full = join(paths.root, dir);
    const names = await readdir(full);
    const known = new Set<string>();
    for (const name of names.filter((n) => n.endsWith('.json') && isMessageId(n.slice(0, -5)))) {
      try {
        const record = JSON.parse(await readFile(join(full, name), 'utf8')) as MessageRecord;
        known.add(record.id);
        const due = journalRecordOf(record);
        if (due.kind === 'set') records.push(due);
      } catch {
        known.add(name.slice(0, -5)); // unreadable state file: left for the operator, never a crash at start-up
      }
    }
    for (const name of names)
      if (name.endsWith('.eml') && !known.has(name.slice(0, 20))) await unlink(join(full, name)).catch(() => undefined);
  }
  return records;
}

async function clearDirectory(dir: string): Promise<void> {
  for (const name of await readdir(dir)) await rm(join(dir, name), { force: true, recursive: true });
}
