import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readEnvironment } from '../../src/config/env.js';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';

let dir = '';

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gopherpost-env-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('readEnvironment', () => {
  it('returns the process environment when there is no .env', () => {
    expect(readEnvironment(dir, { SMTP_PORT: '25', PATH: '/bin' })).toEqual({ SMTP_PORT: '25', PATH: '/bin' });
  });

  it('reads .env, and the process environment wins', () => {
    writeFileSync(
      join(dir, '.env'),
      [
        '# comment',
        'SMTP_PORT=2600',
        'SMTP_BANNER="Hello there"',
        "SMTP_AUTH_USERS='alice:$2b$10$abc'",
        'SMTP_DEBUG=true',
        'SMTP_HOSTNAME=from-file.example',
      ].join('\n'),
    );
    const env = readEnvironment(dir, { SMTP_PORT: '2700', SMTP_HOSTNAME: '' });
    expect(env).toEqual({
      SMTP_PORT: '2700', // process wins
      SMTP_BANNER: 'Hello there',
      SMTP_AUTH_USERS: 'alice:$2b$10$abc', // no $ expansion
      SMTP_DEBUG: 'true',
      SMTP_HOSTNAME: 'from-file.example', // an empty process value counts as unset
    });
  });

  it('never changes the process environment object', () => {
    writeFileSync(join(dir, '.env'), 'SMTP_PORT=2600\n');
    const processEnv = Object.freeze({ OTHER: 'x' });
    const env = readEnvironment(dir, processEnv);
    expect(env).toEqual({ SMTP_PORT: '2600', OTHER: 'x' });
    expect(processEnv).toEqual({ OTHER: 'x' });
  });

  it('leaves the real process.env as it was', () => {
    writeFileSync(join(dir, '.env'), 'GOPHERPOST_TEST_ONLY_VARIABLE=1\n');
    expect(readEnvironment(dir, process.env)['GOPHERPOST_TEST_ONLY_VARIABLE']).toBe('1');
    expect(process.env['GOPHERPOST_TEST_ONLY_VARIABLE']).toBeUndefined();
  });

  it('uses ENV_FILE instead of .env, relative to cwd', () => {
    writeFileSync(join(dir, '.env'), 'SMTP_PORT=2600\nSMTP_DEBUG=true\n');
    mkdirSync(join(dir, 'conf'));
    writeFileSync(join(dir, 'conf', 'prod.env'), 'SMTP_PORT=2800\n');
    expect(readEnvironment(dir, { ENV_FILE: 'conf/prod.env' })).toEqual({
      ENV_FILE: 'conf/prod.env',
      SMTP_PORT: '2800',
    });
    expect(readEnvironment('/', { ENV_FILE: join(dir, 'conf', 'prod.env') })).toMatchObject({ SMTP_PORT: '2800' });
  });

  it('refuses an ENV_FILE that cannot be read, naming it', () => {
    const read = () => readEnvironment(dir, { ENV_FILE: 'missing.env' });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow('ENV_FILE="missing.env": expected a readable dotenv file (ENOENT)');
  });

  it('refuses a .env that exists but cannot be read', () => {
    mkdirSync(join(dir, '.env'));
    expect(() => readEnvironment(dir, {})).toThrow(/ENV_FILE=".*\.env": expected a readable dotenv file \(EISDIR\)/);
  });

  it('feeds loadConfig', () => {
    writeFileSync(join(dir, '.env'), 'SMTP_PORT=2600\nSMTP_DELIVERY_MODE=hold\n');
    const config = loadConfig(readEnvironment(dir, { SMTP_PORT: '2601' }), { hostname: 'h.example' });
    expect(config).toMatchObject({ smtpPort: 2601, deliveryMode: 'hold' });
  });
});
