/**
 * `gopherpost dkim keygen` and `gopherpost dkim check` (SPEC §5).
 *
 *   keygen --selector S --domain D [--type rsa|ed25519] [--bits 2048] [--out FILE] [--force]
 *     writes the private key (PKCS#8 PEM, mode 0600; an existing file only
 *     with --force) and prints the `S._domainkey.D` TXT record in zone-file
 *     syntax, split into 255-character strings.
 *   check [--selector S] [--domain D] [--key FILE]
 *     looks the record up through SMTP_DNS_SERVERS and compares it with the
 *     configured key (SMTP_DKIM_*), or with --key. Exit 0 when they match,
 *     1 when the record is missing, revoked or different, 69 when DNS
 *     failed.
 */
import { randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { normaliseHostname } from '../config/addresses.js';
import type { Config } from '../config/types.js';
import { createResolver, dnsErrorCode, dnsErrorKind } from '../dns/resolver.js';
import {
  DEFAULT_RSA_BITS,
  MAX_RSA_BITS,
  MIN_RSA_BITS,
  dkimRecordName,
  dkimRecordValue,
  generateDkimKey,
  parseDkimRecord,
  publicKeyOf,
  recordPublicKey,
  sameKey,
  zoneFileRecord,
} from '../dkim/keys.js';
import type { DkimKeyType } from '../dkim/keys.js';
import { CliError, EXIT } from './admin/errors.js';
import { processIo } from './admin/output.js';
import type { CliIo } from './admin/output.js';

export interface DkimCliEnv {
  /**
   * The daemon's configuration (throws ConfigError: exit 78); `check` reads SMTP_DNS_SERVERS and SMTP_DKIM_* from it.
   */
  readonly config: () => Config;
  /** Relative --out and --key paths start here. */
  readonly cwd: string;
}

interface KeygenOptions {
  readonly selector: string;
  readonly domain: string;
  readonly type: DkimKeyType;
  readonly bits?: string;
  readonly out?: string;
  readonly force?: boolean;
}

interface CheckOptions {
  readonly selector?: string;
  readonly domain?: string;
  readonly key?: string;
}

function dnsName(flag: string, text: string): string {
  const name = normaliseHostname(text);
  if (name === undefined)
    throw new CliError(`${flag} "${text}": expected DNS labels (letters, digits, hyphens) joined by dots`, EXIT.usage);
  return name;
}

function rsaBits(options: KeygenOptions): number {
  if (options.bits === undefined) return DEFAULT_RSA_BITS;
  if (options.type !== 'rsa') throw new CliError('--bits applies to RSA keys only', EXIT.usage);
  const bits = Number(options.bits);
  if (!Number.isInteger(bits) || bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
    throw new CliError(
      `--bits "${options.bits}": expected an integer from ${MIN_RSA_BITS} to ${MAX_RSA_BITS}`,
      EXIT.usage,
    );
  }
  return bits;
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}

/** Writes the key with mode 0600: exclusively (never replacing a file) unless `force`, then atomically by rename. */
async function writeKeyFile(path: string, pem: string, force: boolean): Promise<void> {
  try {
    if (!force) {
      await writeFile(path, pem, { mode: 0o600, flag: 'wx' });
      return;
    }
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, pem, { mode: 0o600, flag: 'wx' });
      await rename(tmp, path);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
  } catch (error) {
    if (errorCode(error) === 'EEXIST') throw new CliError(`${path} exists; pass --force to replace it`, EXIT.failure);
    throw new CliError(
      `cannot write ${path}: ${errorCode(error) ?? String(error)}`,
      errorCode(error) === 'EACCES' ? EXIT.noPermission : EXIT.failure,
    );
  }
}

function keygenCommand(env: DkimCliEnv, io: CliIo): Command {
  return new Command('keygen')
    .description('write a new DKIM private key (mode 0600) and print the DNS TXT record to publish')
    .requiredOption('--selector <selector>', 'DKIM selector (s=)')
    .requiredOption('--domain <domain>', 'signing domain (d=)')
    .addOption(new Option('--type <type>', 'key type').choices(['rsa', 'ed25519']).default('rsa'))
    .option('--bits <bits>', `RSA key size (default ${DEFAULT_RSA_BITS})`)
    .option('--out <file>', 'private key file (default <selector>._domainkey.<domain>.pem)')
    .option('--force', 'replace an existing key file')
    .action(async (options: KeygenOptions) => {
      const selector = dnsName('--selector', options.selector);
      const domain = dnsName('--domain', options.domain);
      const bits = rsaBits(options);
      const name = dkimRecordName(selector, domain);
      const out = resolve(env.cwd, options.out ?? `${name}.pem`);
      const key = generateDkimKey(options.type, bits);
      await writeKeyFile(out, key.privateKeyPem, options.force === true);
      const size = options.type === 'rsa' ? `, ${bits} bits` : '';
      io.out(`; ${options.type}${size} private key written to ${out} (mode 0600)\n`);
      io.out(`; configure: SMTP_DKIM_SELECTOR=${selector} SMTP_DKIM_DOMAIN=${domain} SMTP_DKIM_KEY_PATH=${out}\n`);
      io.out('; publish this TXT record, then run `gopherpost dkim check`:\n');
      io.out(zoneFileRecord(name, dkimRecordValue(key.publicKey)));
    });
}

async function privateKeyToCompare(
  env: DkimCliEnv,
  config: Config,
  keyFile: string | undefined,
): Promise<{ pem: string; source: string }> {
  if (keyFile !== undefined) {
    const path = resolve(env.cwd, keyFile);
    try {
      return { pem: await readFile(path, 'utf8'), source: path };
    } catch (error) {
      throw new CliError(`cannot read --key ${path}: ${errorCode(error) ?? String(error)}`, EXIT.usage);
    }
  }
  if (!config.dkim) {
    throw new CliError(
      'no DKIM key configured: set SMTP_DKIM_SELECTOR with SMTP_DKIM_KEY_PATH or SMTP_DKIM_PRIVATE_KEY, or pass --key FILE',
      EXIT.usage,
    );
  }
  return { pem: config.dkim.privateKeyPem, source: config.dkim.keyPath ?? 'SMTP_DKIM_PRIVATE_KEY' };
}

function publicKeyFrom(pem: string, source: string): KeyObject {
  try {
    return publicKeyOf(pem);
  } catch {
    throw new CliError(`${source}: not an unencrypted PEM private key`, EXIT.usage);
  }
}

async function lookUp(config: Config, name: string): Promise<string[]> {
  try {
    return (await createResolver(config.dnsServers).resolveTxt(name)).map((strings) => strings.join(''));
  } catch (error) {
    if (dnsErrorKind(error) !== 'temporary') return [];
    throw new CliError(`DNS look-up of ${name} TXT failed: ${dnsErrorCode(error) ?? String(error)}`, EXIT.unavailable);
  }
}

function checkCommand(env: DkimCliEnv, io: CliIo): Command {
  return new Command('check')
    .description(
      'look up the published DKIM record and compare it with the configured key (exit 0 match, 1 mismatch or missing)',
    )
    .option('--selector <selector>', 'DKIM selector (default SMTP_DKIM_SELECTOR)')
    .option('--domain <domain>', 'signing domain (default SMTP_DKIM_DOMAIN)')
    .option('--key <file>', 'private key to compare (default the configured key)')
    .action(async (options: CheckOptions) => {
      const config = env.config();
      const selectorText = options.selector ?? config.dkim?.selector;
      const domainText = options.domain ?? config.dkim?.domain;
      if (selectorText === undefined)
        throw new CliError('--selector is required (or set SMTP_DKIM_SELECTOR)', EXIT.usage);
      if (domainText === undefined) throw new CliError('--domain is required (or set SMTP_DKIM_DOMAIN)', EXIT.usage);
      const name = dkimRecordName(dnsName('--selector', selectorText), dnsName('--domain', domainText));
      const { pem, source } = await privateKeyToCompare(env, config, options.key);
      const expected = publicKeyFrom(pem, source);
      const records = (await lookUp(config, name)).map(parseDkimRecord).filter((r) => r !== undefined);
      if (records.length === 0) throw new CliError(`missing: no DKIM key record at ${name}`, EXIT.failure);
      if (records.length > 1)
        throw new CliError(
          `ambiguous: ${records.length} DKIM key records at ${name}; publish exactly one`,
          EXIT.failure,
        );
      const record = records[0];
      if (record?.publicKey === '')
        throw new CliError(`revoked: ${name} publishes an empty p= (the key is revoked)`, EXIT.failure);
      const published = record ? recordPublicKey(record) : undefined;
      if (!published)
        throw new CliError(`invalid: ${name} publishes no usable ${record?.keyType ?? ''} key`, EXIT.failure);
      if (!sameKey(published, expected))
        throw new CliError(`mismatch: ${name} publishes a different key than ${source}`, EXIT.failure);
      io.out(`match: ${name} publishes the ${published.asymmetricKeyType ?? ''} key of ${source}\n`);
    });
}

/** Mounts `dkim keygen` and `dkim check` on the `gopherpost` program; failures reject with a `CliError`. */
export function registerDkimCommands(program: Command, env: DkimCliEnv, io: CliIo = processIo): void {
  program
    .command('dkim')
    .description('DKIM key tools: generate a key and its DNS record, check the published record')
    .addCommand(keygenCommand(env, io))
    .addCommand(checkCommand(env, io));
}
