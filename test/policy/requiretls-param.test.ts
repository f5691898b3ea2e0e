/**
 * MAIL FROM's REQUIRETLS keyword (RFC 8689 §2), as smtp-server hands it
 * over: `true` for the bare keyword, a string for a keyword with a value.
 */
import { describe, expect, it } from 'vitest';
import { checkRequireTls } from '../../src/policy/requiretls-param.js';

describe('checkRequireTls', () => {
  it('is false when the keyword is absent, in clear or not', () => {
    expect(checkRequireTls(undefined, false)).toEqual({ kind: 'accept', value: false });
    expect(checkRequireTls({ SIZE: '10' }, true)).toEqual({ kind: 'accept', value: false });
  });

  it('is true for the bare keyword in a TLS session', () => {
    expect(checkRequireTls({ REQUIRETLS: true }, true)).toEqual({ kind: 'accept', value: true });
  });

  it('is 530 5.7.10 in clear, whatever its form', () => {
    const refused = {
      kind: 'reject',
      code: 530,
      enhanced: '5.7.10',
      text: 'REQUIRETLS needed: the session must use TLS (STARTTLS) first',
    };
    expect(checkRequireTls({ REQUIRETLS: true }, false)).toEqual(refused);
    expect(checkRequireTls({ REQUIRETLS: 'yes' }, false)).toEqual(refused);
  });

  it('is 501 5.5.4 with a value', () => {
    expect(checkRequireTls({ REQUIRETLS: 'yes' }, true)).toEqual({
      kind: 'reject',
      code: 501,
      enhanced: '5.5.4',
      text: 'Bad REQUIRETLS parameter: it takes no value',
    });
  });
});
