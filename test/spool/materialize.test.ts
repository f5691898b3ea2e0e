/**
 * The file spool's materializer (src/spool/file/materialize.ts) against real
 * files: large bodies renamed into place with a hard link per further
 * recipient, state files written in place, date folders made again when they
 * were swept, and removals that take the folder with the last message.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MessageRecord } from '../../src/domain/envelope.js';
import { newMessageId } from '../../src/spool/id.js';
import { Materializer, linkOnce, unlinkIfPresent } from '../../src/spool/file/materialize.js';
import { spoolPaths, type SpoolPaths } from '../../src/spool/file/paths.js';
import { initialRecord } from '../../src/spool/records.js';

const at = Date.UTC(2026, 11, 7, 9, 30);
let dir: string;
let paths: SpoolPaths;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gp-materialize-'));
  paths = spoolPaths(dir);
  mkdirSync(paths.tmp);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function record(recipients: string[]): MessageRecord {
  const id = newMessageId(at);
  const envelope = { sender: 'a@x.test', recipients, clientAddress: '127.0.0.1', heloName: 'x', receivedAt: at };
  return initialRecord(id, envelope, 5, at);
}

function spilled(r: MessageRecord): string {
  const tmp = paths.tmpBody(r.id);
  writeFileSync(tmp, 'body\n');
  return tmp;
}

describe('materializer', () => {
  it('places a body under the first recipient’s name and hard links the others, returning every path and the folder', async () => {
    const m = new Materializer(paths);
    const r = record(['one@y.test', 'two@y.test', 'three@y.test']);
    const tmp = spilled(r);
    const created = await m.place(r, tmp);
    const names = r.envelope.recipients.map((x) => paths.bodyFile(r.id, at, x));
    expect(created).toEqual([...names, paths.dateDir(at)]);
    expect(existsSync(tmp)).toBe(false);
    for (const name of names) expect(readFileSync(name, 'utf8')).toBe('body\n');
    expect(statSync(names[0] ?? '').nlink).toBe(3);
    expect(statSync(paths.dateDir(at)).mode & 0o777).toBe(0o700);
  });

  it('refuses a message without recipients', async () => {
    const m = new Materializer(paths);
    const r = record([]);
    await expect(m.place(r, spilled(r))).rejects.toThrow('message without recipients');
  });

  it('makes a date folder again when it was swept after it was first made', async () => {
    const m = new Materializer(paths);
    const first = record(['one@y.test']);
    await m.place(first, spilled(first));
    // swept as empty by an operator, while the materializer still believes it exists
    rmSync(paths.dateDir(at), { recursive: true });
    const second = record(['one@y.test']);
    await m.place(second, spilled(second));
    expect(readFileSync(paths.bodyFile(second.id, at, 'one@y.test'), 'utf8')).toBe('body\n');
    rmSync(paths.dateDir(at), { recursive: true });
    const state = await m.writeState(second);
    expect(state).toBe(paths.stateFile(second.id, at));
    expect(JSON.parse(readFileSync(state, 'utf8'))).toEqual(second);
  });

  it('lets other failures through instead of making the folder again', async () => {
    const m = new Materializer(paths);
    const r = record(['one@y.test']);
    // the spilled body is missing: rename fails with ENOENT, the folder is made again, and it still fails
    await expect(m.place(r, paths.tmpBody(r.id))).rejects.toMatchObject({ code: 'ENOENT' });
    // a folder where the state file should go: EISDIR, not retried as a swept folder
    mkdirSync(paths.stateFile(r.id, at), { recursive: true });
    await expect(m.writeState(r)).rejects.toMatchObject({ code: 'EISDIR' });
  });

  it('writes the state file as the record’s JSON, 0600', async () => {
    const m = new Materializer(paths);
    const r = record(['one@y.test']);
    const state = await m.writeState(r);
    expect(JSON.parse(readFileSync(state, 'utf8'))).toEqual(r);
    expect(statSync(state).mode & 0o777).toBe(0o600);
  });

  it('removes every file of a message and the date folder with the last one, and tolerates files already gone', async () => {
    const m = new Materializer(paths);
    const a = record(['one@y.test', 'two@y.test']);
    const b = record(['one@y.test']);
    await m.place(a, spilled(a));
    await m.writeState(a);
    await m.place(b, spilled(b));
    await m.remove(a.id, at, a.envelope.recipients);
    expect(existsSync(paths.stateFile(a.id, at))).toBe(false);
    expect(existsSync(paths.bodyFile(a.id, at, 'two@y.test'))).toBe(false);
    expect(existsSync(paths.bodyFile(b.id, at, 'one@y.test'))).toBe(true); // the folder stays for b
    await m.remove(b.id, at, b.envelope.recipients);
    expect(existsSync(paths.dateDir(at))).toBe(false);
    // removing again (nothing left, folder gone) is no error
    await m.remove(b.id, at, b.envelope.recipients);
    // and a later message makes the folder again: the removal forgot it
    const c = record(['one@y.test']);
    await m.place(c, spilled(c));
    expect(existsSync(paths.bodyFile(c.id, at, 'one@y.test'))).toBe(true);
  });
});

describe('link and unlink helpers', () => {
  it('linkOnce keeps an existing name and throws any other failure', async () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    writeFileSync(a, '1');
    writeFileSync(b, 'other');
    await linkOnce(a, b);
    expect(readFileSync(b, 'utf8')).toBe('other');
    await expect(linkOnce(join(dir, 'missing'), join(dir, 'c'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('unlinkIfPresent ignores a missing file and throws any other failure', async () => {
    await unlinkIfPresent(join(dir, 'missing'));
    const file = join(dir, 'f');
    writeFileSync(file, '1');
    await unlinkIfPresent(file);
    expect(existsSync(file)).toBe(false);
    mkdirSync(join(dir, 'folder'));
    await expect(unlinkIfPresent(join(dir, 'folder'))).rejects.toMatchObject({
      code: expect.stringMatching(/EISDIR|EPERM/),
    });
  });
});
