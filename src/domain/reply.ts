/** An SMTP reply: basic code, RFC 3463 enhanced status and human text. */
export interface Reply {
  readonly code: number;
  readonly enhanced: string;
  readonly text: string;
}

/** Result of a policy check: accept, or reject with the reply to send. */
export type Decision =
  | { readonly kind: 'accept' }
  | {
      readonly kind: 'reject';
      readonly code: number;
      readonly enhanced: string;
      readonly text: string;
      /** Close the connection after the reply (access control, throttling). */
      readonly close?: boolean;
    };

export const accept: Decision = Object.freeze({ kind: 'accept' });

export function reject(code: number, enhanced: string, text: string, close = false): Decision {
  return close ? { kind: 'reject', code, enhanced, text, close } : { kind: 'reject', code, enhanced, text };
}
