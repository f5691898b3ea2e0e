/** Spool reads for tests: every message (paging through), one body as bytes. */
import type { MessageId, MessageRecord } from '../../src/domain/envelope.js';
import type { Spool } from '../../src/spool/spool.js';

export async function allMessages(spool: Pick<Spool, 'list'>, waiting = false): Promise<MessageRecord[]> {
  const out: MessageRecord[] = [];
  let after: string | undefined;
  do {
    const page = await spool.list({ limit: 1000, waiting, ...(after === undefined ? {} : { after }) });
    out.push(...page.items);
    after = page.next;
  } while (after !== undefined);
  return out;
}

export async function bodyBytes(spool: Pick<Spool, 'get' | 'openBody'>, id: MessageId): Promise<Buffer> {
  const record = await spool.get(id);
  if (!record) throw new Error(`no message ${id}`);
  const chunks: Buffer[] = [];
  for await (const chunk of await spool.openBody(record))
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}
