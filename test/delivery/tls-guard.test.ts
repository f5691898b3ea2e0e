/**
 * The TLS guard of one attempt (src/delivery/tls/guard.ts) over real
 * sockets: a server that offers STARTTLS and then refuses it, under a
 * policy that requires TLS and under `may`; and the MX filter of MTA-STS
 * enforce, which refuses hosts the policy does not list before dialling.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { firstValueFrom, from } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { DialTarget } from '../../src/delivery/attempt.js';
import type { Destination } from '../../src/delivery/mx.js';
import { failureDecision } from '../../src/delivery/tls/decision.js';
import { TlsGuard } from '../../src/delivery/tls/guard.js';
import { requirementFor } from '../../src/delivery/tls/requirement.js';
import { SmtpTransport, TransportError } from '../../src/delivery/transport.js';
import type { TlsDecision } from '../../src/domain/tls.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** An SMTP server that offers STARTTLS and answers it 554; accepts everything else. */
async function refusesStartTls(): Promise<{ port: number; commands: string[] }> {
  const commands: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.write('220 mx.refuses.test ESMTP\r\n');
    let buffer = '';
    let inData = false;
    socket.on('data', (data: Buffer) => {
      buffer += data.toString('latin1');
      for (let lf = buffer.indexOf('\r\n'); lf >= 0; lf = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, lf);
        buffer = buffer.slice(lf + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            socket.write('250 2.0.0 queued\r\n');
          }
          continue;
        }
        commands.push(line);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') socket.write('250-mx.refuses.test\r\n250 STARTTLS\r\n');
        else if (verb === 'STAR') socket.write('554 5.7.0 TLS not available\r\n');
        else if (verb === 'DATA') {
          inData = true;
          socket.write('354 go ahead\r\n');
        } else if (verb === 'QUIT') socket.end('221 bye\r\n');
        else socket.write('250 ok\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, commands };
}

function transport(): SmtpTransport {
  const t = new SmtpTransport({ hostname: 'mta.sender.test', tlsVerify: true });
  cleanup.push(() => t.close());
  return t;
}

function sendWith(t: SmtpTransport) {
  return (target: DialTarget) =>
    from(
      t.sendEnvelope({
        ...target,
        from: 'alice@sender.test',
        to: ['bob@refuses.test'],
        body: Readable.from([Buffer.from('Subject: x\r\n\r\nbody\r\n')]),
      }),
    );
}

describe('a host that offers STARTTLS and refuses it', () => {
  it('under verify: the try fails with a 4.7.5 deferral (not the 5xx bounce) and nothing is sent', async () => {
    const server = await refusesStartTls();
    const decisions: TlsDecision[] = [];
    const guard = new TlsGuard(requirementFor('refuses.test', new Map([['refuses.test', 'verify']]), undefined), (d) =>
      decisions.push(d),
    );
    const target: DialTarget = { host: '127.0.0.1', port: server.port, servername: 'mx.refuses.test', label: 'mx' };
    const error = await firstValueFrom(guard.send(target, sendWith(transport()))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    const { classification } = error as TransportError;
    expect(classification.kind).toBe('deferred');
    expect(classification.scope).toBe('host');
    expect(classification.response).toMatch(
      /^4\.7\.5 TLS required for refuses\.test by SMTP_TLS_POLICY \(verify\): STARTTLS failed: .*554 5\.7\.0 TLS not/,
    );
    expect(decisions).toEqual([
      expect.objectContaining({ policy: 'verify', result: 'starttls-failed', refused: true }),
    ]);
    expect(server.commands.some((c) => c.startsWith('MAIL'))).toBe(false);
    expect(guard.last?.result).toBe('starttls-failed');
  });

  it('under may: the mail goes in clear, as before, and the decision says so', async () => {
    const server = await refusesStartTls();
    const decisions: TlsDecision[] = [];
    const guard = new TlsGuard(requirementFor('refuses.test', new Map(), undefined), (d) => decisions.push(d));
    const target: DialTarget = { host: '127.0.0.1', port: server.port, servername: 'mx.refuses.test', label: 'mx' };
    const result = await firstValueFrom(guard.send(target, sendWith(transport())));
    expect(result.recipients[0]?.outcome.kind).toBe('delivered');
    expect(result.tls).toBeUndefined();
    expect(decisions).toEqual([{ policy: 'may', result: 'cleartext', refused: false, host: 'mx' }]);
  });
});

describe('a TLS failure', () => {
  const host = { label: 'mx', name: 'mx.x.test' };
  const failure = { result: 'certificate-invalid' as const, detail: 'certificate has expired' };

  it('is a refusal, with a 4.7.5 deferral, only where the policy requires TLS', () => {
    const verify = failureDecision(requirementFor('x.test', new Map([['x.test', 'verify']]), undefined), host, failure);
    expect(verify.decision.refused).toBe(true);
    expect(verify.classification?.response).toMatch(/^4\.7\.5 /);
  });

  it('under may is the host failing on its own: not a refusal, and the client keeps its own classification', () => {
    const may = failureDecision(requirementFor('x.test', new Map(), undefined), host, failure);
    expect(may.decision).toMatchObject({ policy: 'may', result: 'certificate-invalid', refused: false });
    expect(may.classification).toBeUndefined();
  });
});

describe('MTA-STS enforce: only the MX hosts the policy lists', () => {
  const destination: Destination = {
    kind: 'hosts',
    domain: 'sts.test',
    implicit: false,
    hosts: [
      { name: 'mx1.sts.test', priority: 10, addresses: ['127.0.0.1'] },
      { name: 'evil.example', priority: 20, addresses: ['127.0.0.1'] },
    ],
  };

  it('drops the others, each reported as mx-mismatch', () => {
    const decisions: TlsDecision[] = [];
    const sts = { mode: 'enforce', mx: ['*.sts.test'], maxAge: 86_400 } as const;
    const guard = new TlsGuard(requirementFor('sts.test', new Map(), sts), (d) => decisions.push(d));
    const kept = guard.hosts(destination);
    expect(kept.kind === 'hosts' ? kept.hosts.map((h) => h.name) : kept).toEqual(['mx1.sts.test']);
    expect(decisions).toEqual([
      expect.objectContaining({
        policy: 'mta-sts-enforce',
        result: 'mx-mismatch',
        refused: true,
        host: 'evil.example',
      }),
    ]);
  });

  it('defers with 4.7.5 naming the hosts and the patterns when none matches', () => {
    const sts = { mode: 'enforce', mx: ['mail.other.test'], maxAge: 86_400 } as const;
    const guard = new TlsGuard(requirementFor('sts.test', new Map(), sts));
    expect(guard.hosts(destination)).toEqual({
      kind: 'deferred',
      domain: 'sts.test',
      response:
        '4.7.5 TLS required for sts.test by its MTA-STS policy: no MX host of sts.test (mx1.sts.test, evil.example) ' +
        'matches the policy (mx: mail.other.test)',
    });
  });

  it('keeps every host in testing mode', () => {
    const sts = { mode: 'testing', mx: ['mail.other.test'], maxAge: 86_400 } as const;
    expect(new TlsGuard(requirementFor('sts.test', new Map(), sts)).hosts(destination)).toBe(destination);
  });
});
