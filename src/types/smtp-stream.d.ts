// smtp-server ships no types for its stream parser; only what we patch.
declare module 'smtp-server/lib/smtp-stream.js' {
  export class SMTPStream {
    _feedDataStream(chunk: Buffer, done: () => void): void;
  }
}
