/**
 * Finding a message's record and body: from memory while the record is in
 * flight or not yet written (`RecordCache`), else from its state file read
 * on the read thread. A state file sits in the folder of the id's date, or
 * of the day before for ids made a moment after the acceptance time.
 */
import { createReadStream } from 'node:fs';
import type { MessageId, MessageRecord } from '../../domain/envelope.js';
import { SpoolError } from '../spool.js';
import { storageError } from '../storage-error.js';
import { oneChunk } from './body-intake.js';
import { idTime } from './message-ids.js';
import { isMessageId, type SpoolPaths } from './paths.js';
import type { SpoolReader } from './reader.js';
import type { RecordCache } from './record-cache.js';

const DAY_MS = 86_400_000;

export class RecordLookup {
  constructor(
    private readonly paths: SpoolPaths,
    private readonly cache: RecordCache,
    private readonly reader: SpoolReader,
    /** Bodies up to this size are read whole on the read thread; larger ones are streamed. */
    private readonly inlineLimit: number,
  ) {}

  /** A record from memory, or from its state file (undefined: no such message). */
  async load(id: MessageId): Promise<MessageRecord | undefined> {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const at = idTime(id);
    if (!isMessageId(id) || Number.isNaN(at)) return undefined;
    for (const day of [at, at - DAY_MS]) {
      const data = await this.reader.read(this.paths.stateFile(id, day)).catch((error: unknown) => {
        throw storageError(error);
      });
      if (!data) continue;
      try {
        return JSON.parse(data.toString('utf8')) as MessageRecord;
      } catch (error) {
        throw new SpoolError(`the state file of ${id} is unreadable`, { cause: error });
      }
    }
    return undefined;
  }

  async openBody(message: MessageRecord): Promise<AsyncIterable<Buffer>> {
    const first = message.envelope.recipients[0];
    if (first === undefined) throw new SpoolError(`message ${message.id} has no recipients`);
    const path = this.paths.bodyFile(message.id, message.envelope.receivedAt, first);
    if (message.size > this.inlineLimit) return fileChunks(path);
    const body = await this.reader.read(path).catch((error: unknown) => {
      throw storageError(error);
    });
    if (!body) throw new SpoolError(`unknown message ${message.id}`);
    return oneChunk(body);
  }

  close(): Promise<void> {
    return this.reader.close();
  }
}

/** The body file, opened on the first read: a body that is never read (refused before DATA) holds no descriptor. */
async function* fileChunks(path: string): AsyncGenerator<Buffer> {
  for await (const chunk of createReadStream(path)) yield chunk as Buffer;
}
