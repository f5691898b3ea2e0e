/**
 * smtp-server patch for MAIL FROM's REQUIRETLS parameter (RFC 8689);
 * patches.ts applies it with the others.
 *
 * smtp-server checks the parameter itself, before our `onMailFrom` hook, but
 * answers a REQUIRETLS in clear with a bare `530` (enhanced code 5.0.0 by
 * default) and a value with `501` and its own text. Its check is wrapped so
 * our pure one (policy/requiretls-param.ts) decides first and the reply
 * carries RFC 8689's codes: `530 5.7.10`, `501 5.5.4`. The enhanced code goes
 * in the text, which the send patch turns into the reply's own.
 */
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { commandArgs } from '../policy/dsn-params.js';
import { checkRequireTls } from '../policy/requiretls-param.js';
import type { Patch } from './patch-check.js';

export const requireTlsReplies: Patch = {
  name: 'REQUIRETLS on MAIL FROM: RFC 8689 replies',
  expects: [
    {
      on: 'SMTPConnection',
      method: '_validateMailParams',
      length: 1,
      markers: ['args.REQUIRETLS !== undefined', 'if (!this.secure)'],
    },
    { on: 'SMTPConnection', method: 'handler_MAIL', length: 2, markers: ['this._validateMailParams(parsed)'] },
  ],
  apply() {
    const proto = SMTPConnection.prototype;
    // eslint-disable-next-line @typescript-eslint/unbound-method -- kept to be called with .call(this) below
    const validate = proto._validateMailParams;
    proto._validateMailParams = function validateWithRequireTls(this: SMTPConnection, parsed) {
      const checked = checkRequireTls(commandArgs(parsed.args), this.secure);
      if (checked.kind === 'reject') {
        return { code: checked.code, message: `${checked.enhanced} ${checked.text}`, enhancedCode: null };
      }
      return validate.call(this, parsed);
    };
  },
};
