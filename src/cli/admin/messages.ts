import { Command } from 'commander';
import type { RecipientStatus } from '../../domain/envelope.js';
import type { MessageList, MessageView } from '../../http/api-types.js';
import { addConnectionOptions, connect, type AdminEnv } from './connection.js';
import { formatTable, printJson, type CliIo } from './output.js';
import { addPagingOptions, nextPageHint, pageQuery, parsePaging, printPages, type PagingFlags } from './paging.js';

const MESSAGES_HEADER = ['ID', 'RECEIVED', 'FROM', 'SIZE', 'RECIPIENTS'];

/** The order outcomes are listed in: final ones first, then the waiting ones. */
const OUTCOMES: readonly RecipientStatus[] = ['delivered', 'bounced', 'deferred', 'queued'];

/** Recipients per outcome, e.g. `2 delivered, 1 deferred` (outcomes with none are left out). */
export function summary(message: Pick<MessageView, 'recipients'>): string {
  const counts = OUTCOMES.map(
    (status) => [status, message.recipients.filter((r) => r.status === status).length] as const,
  );
  const parts = counts.filter(([, n]) => n > 0).map(([status, n]) => `${n} ${status}`);
  return parts.length > 0 ? parts.join(', ') : 'no recipients';
}

function describe(message: MessageView): string {
  const lines = [
    `id:        ${message.id}`,
    `from:      <${message.sender}>`,
    `received:  ${message.receivedAt} from ${message.clientAddress} (${message.heloName})${message.user ? ` as ${message.user}` : ''}`,
    `size:      ${message.size} bytes`,
    'recipients:',
    formatTable(
      ['  RECIPIENT', 'STATUS', 'ATTEMPTS', 'NEXT ATTEMPT', 'LAST RESPONSE'],
      message.recipients.map((r) => [
        `  ${r.recipient}`,
        r.status,
        String(r.attempts),
        r.status === 'queued' || r.status === 'deferred' ? r.nextAttemptAt : '-',
        r.lastResponse ?? '',
      ]),
      { maxWidth: 80 },
    ).trimEnd(),
    'history:',
    formatTable(
      ['  TIME', 'EVENT', 'RECIPIENT', 'RELAY', 'STATUS', 'DELAY', 'REPLY'],
      (message.history ?? []).map((h) => [
        `  ${h.time}`,
        h.event,
        h.recipient ?? '-',
        h.relay ?? '-',
        h.status ?? '-',
        h.delayMs === undefined ? '-' : `${(h.delayMs / 1000).toFixed(1)}s`,
        h.reply ?? '',
      ]),
      { maxWidth: 100 },
    ).trimEnd(),
  ];
  return lines.join('\n') + '\n';
}

/** `gopherpost messages [ls|show ID]` through a running daemon's admin API. */
export function messagesCommand(env: AdminEnv, io: CliIo): Command {
  const messages = addConnectionOptions(
    new Command('messages').description('list and show messages stored in the spool of a running daemon'),
    env,
  ).addHelpText(
    'after',
    '\nTalks to the admin API of a running daemon (SMTP_HEALTH_ADDR, SMTP_ADMIN_TOKEN).\n' +
      "Examples:\n  gopherpost messages ls --limit 20\n  gopherpost messages ls --all --json | jq -r '.messages[].id'\n  gopherpost messages show 01hzx3k9v2q7m4d8c6b1 --raw > message.eml",
  );

  addPagingOptions(
    messages
      .command('ls', { isDefault: true })
      .description('list stored messages, finished ones too, a page at a time, oldest first'),
    'messages',
  ).action(async (flags: PagingFlags, command: Command) => {
    const { client, json } = connect(command, env);
    const paging = parsePaging(flags);
    const { last, listed } = await printPages(
      io,
      { paging, json, header: MESSAGES_HEADER },
      (after) => client.json<MessageList>('GET', `/api/messages${pageQuery(paging.limit, after)}`),
      (page) => page.messages.map((m) => [m.id, m.receivedAt, `<${m.sender}>`, String(m.size), summary(m)]),
    );
    if (json) return;
    if (listed === 0) io.out(paging.after === undefined ? 'no messages\n' : 'no messages after this cursor\n');
    if (last.next !== undefined && !paging.all) io.out(nextPageHint('messages ls', paging, last.next));
  });

  messages
    .command('show')
    .argument('<id>', 'message id (from `messages ls`)')
    .option('--raw', 'print the stored message bytes instead (headers and body)')
    .description('show one message: envelope, per-recipient delivery state and its history (every attempt)')
    .action(async (id: string, options: { raw?: boolean }, command: Command) => {
      const { client, json } = connect(command, env);
      const path = `/api/messages/${encodeURIComponent(id)}`;
      if (options.raw) {
        for await (const chunk of await client.stream(`${path}/raw`)) await io.outBytes(chunk);
        return;
      }
      const message = await client.json<MessageView>('GET', path);
      if (json) return printJson(io, message);
      io.out(describe(message));
    });

  return messages;
}
