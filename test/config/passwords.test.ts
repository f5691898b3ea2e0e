import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { hashScrypt, parseScryptHash, secretKind, verifyPassword } from '../../src/config/passwords.js';
import { load } from './helpers.js';

describe('verifyPassword', () => {
  it('compares plain passwords', async () => {
    expect(await verifyPassword('hunter2', 'hunter2')).toBe(true);
    expect(await verifyPassword('hunter2', 'hunter3')).toBe(false);
    expect(await verifyPassword('hunter2', 'hunter22')).toBe(false);
    expect(await verifyPassword('hunter2', '')).toBe(false);
  });

  it.each(['$2a$', '$2b$', '$2y$'])('checks %s bcrypt hashes', async (prefix) => {
    const hash = bcrypt.hashSync('s3cret:with:colons', 4).replace(/^\$2[aby]\$/, prefix);
    expect(secretKind(hash)).toBe('bcrypt');
    expect(await verifyPassword(hash, 's3cret:with:colons')).toBe(true);
    expect(await verifyPassword(hash, 's3cret')).toBe(false);
  });

  it('checks scrypt hashes made by hashScrypt', async () => {
    const hash = await hashScrypt('correct horse', { N: 1024 });
    expect(hash).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
    expect(secretKind(hash)).toBe('scrypt');
    expect(await verifyPassword(hash, 'correct horse')).toBe(true);
    expect(await verifyPassword(hash, 'correct horse!')).toBe(false);
  });

  it('uses N=16384, r=8, p=1 and a 32-byte key by default', async () => {
    const hash = await hashScrypt('pw');
    const parsed = parseScryptHash(hash);
    expect(parsed).toMatchObject({ N: 16384, r: 8, p: 1 });
    expect(parsed?.salt).toHaveLength(16);
    expect(parsed?.hash).toHaveLength(32);
    expect(await verifyPassword(hash, 'pw')).toBe(true);
  });

  it('salts every hash', async () => {
    expect(await hashScrypt('pw', { N: 1024 })).not.toBe(await hashScrypt('pw', { N: 1024 }));
  });

  it('never matches a malformed hash', async () => {
    expect(await verifyPassword('$2b$10$tooShort', '$2b$10$tooShort')).toBe(false);
    expect(await verifyPassword('scrypt$3$8$1$c2FsdHNhbHQ=$aGFzaA==', 'scrypt$3$8$1$c2FsdHNhbHQ=$aGFzaA==')).toBe(
      false,
    );
  });
});

describe('parseScryptHash', () => {
  const salt = Buffer.alloc(16, 1).toString('base64');
  const key = Buffer.alloc(32, 2).toString('base64');
  it.each([
    [`scrypt$16384$8$1$${salt}$${key}`, true],
    [`scrypt$1024$1$16$${salt.replace(/=+$/, '')}$${key.replace(/=+$/, '')}`, true],
    [`scrypt$1000$8$1$${salt}$${key}`, false], // N not a power of two
    [`scrypt$1$8$1$${salt}$${key}`, false],
    [`scrypt$2097152$8$1$${salt}$${key}`, false], // N over 2^20
    [`scrypt$16384$0$1$${salt}$${key}`, false],
    [`scrypt$16384$8$17$${salt}$${key}`, false],
    [`scrypt$16384$8$1$c2FsdA==$${key}`, false], // 4-byte salt
    [`scrypt$16384$8$1$${salt}$aGFzaA==`, false], // 4-byte key
    [`scrypt$16384$8$1$${salt}$not base64!`, false],
    [`scrypt$16384$8$1$${salt}`, false],
    [`scrypt$16384$8$1$${salt}$${key}$extra`, false],
  ])('%s → %s', (text, valid) => {
    expect(parseScryptHash(text) !== undefined).toBe(valid);
  });
});

describe('SMTP_AUTH_USERS with hashes', () => {
  it('keeps bcrypt and scrypt hashes as the secret, verifiable', async () => {
    const bcryptHash = bcrypt.hashSync('pw1', 4);
    const scryptHash = await hashScrypt('pw2', { N: 1024 });
    const config = load({ SMTP_AUTH_USERS: `alice:${bcryptHash},bob:${scryptHash},carol:pl:ain` });
    expect(config.authUsers.map((u) => u.user)).toEqual(['alice', 'bob', 'carol']);
    const [alice, bob, carol] = config.authUsers;
    expect(await verifyPassword(alice?.secret ?? '', 'pw1')).toBe(true);
    expect(await verifyPassword(bob?.secret ?? '', 'pw2')).toBe(true);
    expect(await verifyPassword(carol?.secret ?? '', 'pl:ain')).toBe(true);
    expect(await verifyPassword(carol?.secret ?? '', 'pl')).toBe(false);
  });
});
