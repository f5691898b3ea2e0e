import { Command } from 'commander';
import type { MessageList, MessageView } from '../../http/api-types.js';
import { addConnectionOptions, connect, type AdminEnv } from './connection.js';
import { formatTable, type CliIo } from './output.js';

function summary(message: MessageView): string {
  const done = message.recipients.filter((r) => r.status === 'delivered' || r.status === 'bounced').length;
  return `${done}/${message.recipients.length} done`;
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
      80,
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
      'Examples:\n  gopherpost messages ls\n  gopherpost messages show 01hzx3k9v2q7m4d8c6b1 --raw > message.eml',
  );

  messages
    .command('ls', { isDefault: true })
    .description('list stored messages, oldest first')
    .action(async (_options: unknown, command: Command) => {
      const { client, json } = connect(command, env);
      const list = await client.json<MessageList>('GET', '/api/messages');
      if (json) return io.out(JSON.stringify(list, null, 2) + '\n');
      if (list.count === 0) return io.out('no messages\n');
      io.out(
        formatTable(
          ['ID', 'RECEIVED', 'FROM', 'SIZE', 'RECIPIENTS'],
          list.messages.map((m) => [m.id, m.receivedAt, `<${m.sender}>`, String(m.size), summary(m)]),
        ),
      );
    });

  messages
    .command('show')
    .argument('<id>', 'message id (from `messages ls`)')
    .option('--raw', 'print the stored message bytes instead (headers and body)')
    .description('show one message: envelope and per-recipient delivery state')
    .action(async (id: string, options: { raw?: boolean }, command: Command) => {
      const { client, json } = connect(command, env);
      const path = `/api/messages/${encodeURIComponent(id)}`;
      if (options.raw) {
        for await (const chunk of await client.stream(`${path}/raw`)) await io.outBytes(chunk);
        return;
      }
      const message = await client.json<MessageView>('GET', path);
      io.out(json ? JSON.stringify(message, null, 2) + '\n' : describe(message));
    });

  return messages;
}
