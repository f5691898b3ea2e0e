/**
 * The SMTPServer options: SPEC §3's listener settings as smtp-server spells them.
 *
 * Owns: which smtp-server features are on (extensions, AUTH methods, STARTTLS,
 *       timeouts) and where its hooks go.
 * In:   the config, the TLS material (none when SMTP_TLS_DISABLE), the hooks.
 * Out:  the options object for `new SMTPServer`.
 */
import type { SMTPServerOptions, SMTPServerSession } from 'smtp-server';
import type { Config } from '../config/types.js';
import { limitsExtension } from '../policy/session-limits.js';
import type { TlsMaterial } from './tls.js';

/** The hooks smtp-server calls, plus `onSessionEnding`, our own (see the send patch in patches.ts). */
export type SessionHooks = Required<
  Pick<SMTPServerOptions, 'onConnect' | 'onAuth' | 'onMailFrom' | 'onRcptTo' | 'onData' | 'onClose'>
> & {
  readonly onSessionEnding: (session: SMTPServerSession) => void;
};

/** Our own options, read by the patches (patches.ts). */
export interface PatchOptions {
  /** Lines added to the EHLO reply. */
  readonly ehloExtensions: readonly string[];
}

export function serverOptions(
  config: Config,
  tls: TlsMaterial | undefined,
  hooks: SessionHooks,
): SMTPServerOptions & SessionHooks & PatchOptions {
  return {
    name: config.hostname,
    banner: config.banner,
    size: config.maxMessageBytes,
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: true,
    allowInsecureAuth: config.authInsecure,
    disabledCommands: [...(config.tlsDisable ? ['STARTTLS'] : []), ...(config.authUsers.length === 0 ? ['AUTH'] : [])],
    hideENHANCEDSTATUSCODES: false,
    hideDSN: false,
    // REQUIRETLS (RFC 8689): smtp-server advertises it only once the session is TLS
    hideREQUIRETLS: false,
    disableReverseLookup: true,
    socketTimeout: config.commandTimeoutSeconds * 1000,
    closeTimeout: 5_000,
    maxAllowedUnauthenticatedCommands: false,
    ehloExtensions: [limitsExtension(config)],
    ...(tls ? { key: tls.key, cert: tls.cert } : {}),
    ...hooks,
  };
}
