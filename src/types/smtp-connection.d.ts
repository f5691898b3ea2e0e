// smtp-server ships no types for its connection class; only what we patch.
declare module 'smtp-server/lib/smtp-connection.js' {
  export class SMTPConnection {
    init(): void;
    connectionReady(next?: () => void): void;
    send(code: number, data?: string | string[], context?: string | false): void;
    _setListeners(callback: () => void): void;
    secure: boolean;
    session: unknown;
    _server: { options: { allowInsecureAuth?: boolean; onSessionEnding?: (session: unknown) => void } };
  }
}
