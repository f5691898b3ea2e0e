/**
 * The spool I/O thread's work loop (src/spool/file/io/worker-loop.ts) driven
 * in this thread over a real MessageChannel and real files: what each kind
 * of request does and answers, the order of the log write before body
 * placement and the due journal, background state files after foreground
 * work, and failures answered rather than thrown. The thread itself is
 * exercised by every file-spool test; here each answer is checked exactly.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IoCall } from '../../src/spool/file/io-thread.js';
import type { IoResponse } from '../../src/spool/file/io/protocol.js';
import { IoWorker } from '../../src/spool/file/io/worker-loop.js';
import { encodeRecord } from '../../src/spool/file/wal-record.js';
import { idsInSegment } from '../helpers/spool.js';

let dir: string;
let walDir: string;
let ours: MessagePort;
let theirs: MessagePort;
let worker: IoWorker;
let nextId = 1;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gp-io-loop-'));
  walDir = join(dir, 'wal');
  mkdirSync(walDir);
  const channel = new MessageChannel();
  ours = channel.port1;
  theirs = channel.port2;
  worker = new IoWorker(theirs, walDir);
});
afterEach(async () => {
  ours.close();
  theirs.close();
  await rm(dir, { recursive: true, force: true });
});

/** Numbers the calls, lets the loop handle them as one batch, and gives every answer it sent, in order. */
function run(...calls: IoCall[]): IoResponse[] {
  const requests = calls.map((call) => ({ ...call, id: nextId++ }));
  worker.pump(requests);
  const answers: IoResponse[] = [];
  for (let m = receiveMessageOnPort(ours); m; m = receiveMessageOnPort(ours))
    answers.push(...(m.message as IoResponse[]));
  expect(answers.map((a) => a.id).sort((a, b) => a - b)).toEqual(requests.map((r) => r.id));
  return answers;
}

const values = (answers: IoResponse[]): unknown[] => answers.map((a) => (a.ok ? a.value : a.error));
const record = (id: string, body = ''): { frame: Buffer; bodyAt: number } =>
  encodeRecord({ t: 'del', id, receivedAt: 0, recipients: ['a@b.test'] }, body ? [Buffer.from(body)] : []);
const idsIn = (seq: number): string[] => idsInSegment(walDir, seq);

describe('the I/O work loop', () => {
  it('refuses to log before the log is open, answering each request', () => {
    const answers = run({ kind: 'record', frame: record('m1').frame });
    expect(answers).toEqual([{ id: expect.any(Number), ok: false, error: { message: 'write-ahead log is not open' } }]);
  });

  it('opens the log, logs records and messages in one write, then places bodies and appends the due journal', () => {
    const [opened] = values(run({ kind: 'open', seq: 5 }));
    expect(opened).toEqual({ seq: 5, sealed: 4, bytes: 0 });
    const journal = join(dir, 'due.journal');
    expect(values(run({ kind: 'journal', path: journal }))).toEqual([journal]);
    const message = record('m1', 'Subject: x\r\n\r\nbody\r\n');
    const names = [join(dir, 'q', 'm1.0'), join(dir, 'q', 'm1.1')];
    const answers = run(
      { kind: 'message', frame: message.frame, bodyAt: message.bodyAt, names, due: Buffer.from('due-m1;') },
      { kind: 'record', frame: record('r2').frame, due: Buffer.from('due-r2;') },
      { kind: 'record', frame: record('r3').frame },
    );
    const bytes = message.frame.length + record('r2').frame.length + record('r3').frame.length;
    expect(values(answers)).toEqual([
      { seq: 5, bytes, placed: names, grew: true },
      { seq: 5, bytes, placed: [], grew: true },
      { seq: 5, bytes, placed: [], grew: true },
    ]);
    expect(idsIn(5)).toEqual(['m1', 'r2', 'r3']);
    expect(readFileSync(names[1] ?? '', 'utf8')).toBe('Subject: x\r\n\r\nbody\r\n');
    expect(readFileSync(journal, 'utf8')).toBe('due-m1;due-r2;');
  });

  it('says when a body could not be placed or the due journal not appended, the record logged all the same', () => {
    run({ kind: 'open', seq: 1 });
    writeFileSync(join(dir, 'file'), 'not a folder');
    const message = record('m1', 'body');
    const [answer] = values(
      run({
        kind: 'message',
        frame: message.frame,
        bodyAt: message.bodyAt,
        names: [join(dir, 'file', 'm1.0')],
        due: Buffer.from('x'),
      }),
    );
    expect(answer).toMatchObject({
      seq: 1,
      placed: [],
      unplaced: expect.stringMatching(/^EEXIST: /),
      unjournaled: true,
    });
    expect(idsIn(1)).toEqual(['m1']);
  });

  it('seals the current segment on rotate, and answers the current one when it cannot', () => {
    run({ kind: 'open', seq: 1 });
    expect(values(run({ kind: 'rotate' }))).toEqual([{ seq: 2, sealed: 1, bytes: 0 }]);
    const fresh = new IoWorker(theirs, join(dir, 'elsewhere'));
    worker = fresh;
    const [unopened] = values(run({ kind: 'rotate' }));
    expect(unopened).toMatchObject({ sealed: (unopened as { seq: number }).seq });
  });

  it('puts, reads, removes and syncs files; a missing file reads as null', () => {
    const path = join(dir, 'parts', 'state.json');
    expect(
      values(
        run(
          { kind: 'put', path, data: Buffer.from('{"a":'), more: true },
          { kind: 'put', path, data: Buffer.from('1}'), continued: true },
        ),
      ),
    ).toEqual([path, path]);
    const [read, missing] = values(run({ kind: 'read', path }, { kind: 'read', path: join(dir, 'none') }));
    expect(Buffer.from(read as Uint8Array).toString()).toBe('{"a":1}');
    expect(missing).toBeNull();
    expect(values(run({ kind: 'unlink', paths: [path, join(dir, 'none')] }))).toEqual([null]);
    expect(existsSync(path)).toBe(false);
    expect(values(run({ kind: 'syncfs', root: dir }))).toEqual([expect.any(Boolean)]);
    const [failed] = run({ kind: 'read', path: dir });
    expect(failed).toMatchObject({ ok: false, error: { code: 'EISDIR' } });
  });

  it('writes state files after the other work of the turn, all of them even past one slice', () => {
    const states: IoCall[] = Array.from({ length: 40 }, (_, i) => ({
      kind: 'state',
      path: join(dir, 'states', `s${i}.json`),
      json: `{"n":${i}}`,
    }));
    const answers = run(...states, { kind: 'read', path: join(dir, 'none') });
    // the read came last but is answered first: state files wait until nothing else does
    expect(answers[0]?.id).toBe(Math.max(...answers.map((a) => a.id)));
    expect(readdirSync(join(dir, 'states'))).toHaveLength(40);
    expect(readFileSync(join(dir, 'states', 's39.json'), 'utf8')).toBe('{"n":39}');
  });

  it('looks after spare segments, answers an unknown request with an error, and closes after the rest', async () => {
    run({ kind: 'open', seq: 1 });
    expect(values(run({ kind: 'prepare' }))).toEqual([null]);
    expect(readdirSync(walDir).filter((n) => n.startsWith('spare-'))).toHaveLength(2);
    expect(values(run({ kind: 'trim' }, { kind: 'recycle', seqs: [] }))).toEqual([null, null]);
    const unknown = { kind: 'format-disk' } as unknown as IoCall;
    expect(values(run(unknown))).toEqual([{ message: 'unknown request format-disk' }]);
    const closed = new Promise<void>((resolve) => ours.once('close', () => resolve()));
    const answers = run({ kind: 'record', frame: record('last').frame }, { kind: 'close' });
    expect(answers.map((a) => a.ok)).toEqual([true, true]);
    const [logged] = values(answers) as { seq: number }[];
    expect(idsIn(logged?.seq ?? 0)).toEqual(['last']);
    await closed; // the loop let go of its port
  });
});
