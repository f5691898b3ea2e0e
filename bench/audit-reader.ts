/**
 * One `GET /audit` Server-Sent Events client that reads everything as fast
 * as it arrives (the soak's live audit tail; the opposite of W1s's
 * subscriber that never reads). It counts bytes and events (`data:` lines).
 */
import { request, type ClientRequest, type IncomingMessage } from 'node:http';

export interface AuditReader {
  bytes(): number;
  events(): number;
  /** Set when the stream ended or failed before `close()`. */
  ended(): string | undefined;
  close(): void;
}

export function openAuditReader(httpPort: number): Promise<AuditReader> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    let events = 0;
    let carry = '';
    let ended: string | undefined;
    let closing = false;
    const req: ClientRequest = request(
      { host: '127.0.0.1', port: httpPort, path: '/audit', headers: { Accept: 'text/event-stream' } },
      (res: IncomingMessage) => {
        if (res.statusCode !== 200) {
          reject(new Error(`GET /audit answered ${res.statusCode}`));
          res.resume();
          return;
        }
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          bytes += Buffer.byteLength(chunk);
          const text = carry + chunk;
          let at = text.indexOf('data:');
          while (at >= 0) {
            if (at === 0 || text[at - 1] === '\n') events += 1;
            at = text.indexOf('data:', at + 5);
          }
          carry = text.slice(-5); // a `data:` split across chunks (never counted twice: a full match is 5 chars)
          if (carry.includes('data:')) carry = '';
        });
        res.on('end', () => {
          if (!closing) ended = 'the stream ended';
        });
        res.on('error', (error) => {
          if (!closing) ended = error.message;
        });
        resolve({
          bytes: () => bytes,
          events: () => events,
          ended: () => ended,
          close: () => {
            closing = true;
            req.destroy();
          },
        });
      },
    );
    req.on('error', (error) => {
      if (!closing) ended = error.message;
      reject(error);
    });
    req.end();
  });
}
