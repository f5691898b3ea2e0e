/**
 * The transport's settings and the relay target from the configuration
 * (src/delivery/transport-config.ts).
 */
import { rootCertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { relayTarget, transportOptionsFromConfig, trustedCas } from '../../src/delivery/transport-config.js';
import { FACTS, load } from '../config/helpers.js';

describe('transport options', () => {
  it('keeps at least ten idle connections per host, more when more workers may use them', () => {
    expect(transportOptionsFromConfig(load({ SMTP_QUEUE_WORKERS: '4' })).maxIdlePerHost).toBe(10);
    expect(transportOptionsFromConfig(load({ SMTP_QUEUE_WORKERS: '64' })).maxIdlePerHost).toBe(64);
  });

  it('names the host, the verification setting and no CA list of its own by default', () => {
    const options = transportOptionsFromConfig(load({}));
    expect(options.hostname).toBe('mx.example.test');
    expect(options.tlsVerify).toBe(true);
    expect(options).not.toHaveProperty('ca');
  });

  it('adds an outbound CA file to the system’s CAs, never in place of them', () => {
    const pem = rootCertificates[0] ?? ''; // any parseable CA certificate
    const facts = { ...FACTS, readFile: () => pem };
    const options = transportOptionsFromConfig(load({ SMTP_OUTBOUND_CA_FILE: '/etc/ca.pem' }, facts));
    expect(options.ca).toEqual([...rootCertificates, pem]);
    expect(trustedCas('x')).toHaveLength(rootCertificates.length + 1);
  });
});

describe('relay target', () => {
  it('requires STARTTLS before sending credentials in clear, and not without credentials or over implicit TLS', () => {
    expect(relayTarget({ host: 'r.test', port: 587, secure: false, user: 'u', pass: 'p' })).toEqual({
      host: 'r.test',
      port: 587,
      secure: false,
      requireTls: true,
      auth: { user: 'u', pass: 'p' },
    });
    expect(relayTarget({ host: 'r.test', port: 465, secure: true, user: 'u', pass: 'p' })).toMatchObject({
      secure: true,
      requireTls: false,
    });
    expect(relayTarget({ host: 'r.test', port: 25, secure: false })).toEqual({
      host: 'r.test',
      port: 25,
      secure: false,
      requireTls: false,
    });
  });

  it('sends an empty password for a user given without one', () => {
    expect(relayTarget({ host: 'r.test', port: 587, secure: false, user: 'u' }).auth).toEqual({ user: 'u', pass: '' });
  });
});
