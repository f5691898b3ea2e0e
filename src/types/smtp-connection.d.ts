// smtp-server ships no types for its connection class; only what we patch.
declare module 'smtp-server/lib/smtp-connection.js' {
  import type { Socket } from 'node:net';

  export class SMTPConnection {
    init(): void;
    connectionReady(next?: () => void): void;
    send(code: number, data?: string | string[], context?: string | false): void;
    _setListeners(callback: () => void): void;
    handler_QUIT(command: unknown, callback: () => void): void;
    close(): void;
    _validateMailParams(parsed: {
      args?: unknown;
    }): { code: number; message: string; enhancedCode: string | null } | null;
    _socket: Socket;
    _upgrading?: boolean;
    secure: boolean;
    session: unknown;
    _server: {
      options: {
        allowInsecureAuth?: boolean;
        onSessionEnding?: (session: unknown) => void;
        /** Our own option: lines added to the EHLO reply (see patches.ts). */
        ehloExtensions?: readonly string[];
      };
    };
  }
}
