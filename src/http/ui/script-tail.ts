/**
 * The web console's script, part 2: the live audit tail (`/audit` read with fetch).
 * Text only, served by routes/ui.ts. It is a String.raw template: no backticks or dollar-braces inside.
 */
export const SCRIPT_TAIL = String.raw`
// ---- live audit tail: /audit read with fetch and a stream reader (EventSource cannot send headers)

const TAIL_MAX = 300;
let lastEventId;

function summary(record) {
  switch (record.type) {
    case 'message.stored':
      return record.id + ' from <' + record.sender + '> ' + record.recipients + ' rcpt, ' + record.size + ' bytes';
    case 'delivery.attempt':
      return record.id + ' to ' + record.recipients.join(', ') + ' via ' + record.host;
    case 'delivery.outcome':
      return record.id + ' <' + record.recipient + '> ' + record.outcome + ': ' + record.response;
    case 'destination.dead':
      return record.destination + ' until ' + record.until + ': ' + record.reason;
    case 'rejected':
      return record.client + ' at ' + record.stage + ': ' + record.code + ' ' + record.reason;
    case 'command':
      return record.session + ' ' + record.command + ' -> ' + record.reply;
    default: {
      const rest = Object.assign({}, record);
      delete rest.type;
      delete rest.seq;
      delete rest.time;
      return JSON.stringify(rest);
    }
  }
}

function showRecord(record, onChange) {
  const time = new Date(record.time).toLocaleTimeString();
  const line = el(
    'li',
    { 'data-type': record.type, 'data-id': record.id },
    el('span', { class: 'muted' }, time + ' '),
    el('span', { class: 'type' }, record.type),
    ' ',
    summary(record),
  );
  const tail = $('#tail');
  tail.prepend(line);
  while (tail.children.length > TAIL_MAX) tail.lastElementChild.remove();
  if (record.type === 'message.stored' || record.type === 'delivery.outcome') onChange();
}

function handleBlock(block, onChange) {
  let data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('id:')) lastEventId = line.slice(3).trim();
    else if (line.startsWith('data:')) data += line.slice(5).trim();
    else if (line.startsWith(':') && line.includes('audit logging')) showAuditState(!line.includes('logging off'));
  }
  if (data) showRecord(JSON.parse(data), onChange);
}

function showAuditState(enabled) {
  $('#audit-off').hidden = enabled;
}

async function readStream(onChange) {
  const headers = authHeaders();
  if (lastEventId !== undefined) headers['Last-Event-ID'] = lastEventId;
  const res = await fetch('/audit', { headers, cache: 'no-store' });
  if (res.status === 401) {
    showLogin('The daemon asks for its admin token (SMTP_ADMIN_TOKEN).');
    throw new Unauthorized('unauthorized');
  }
  if (!res.ok || !res.body) throw new Error('audit stream: ' + res.status);
  $('#tail-state').textContent = 'live';
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      handleBlock(buffer.slice(0, end), onChange);
      buffer = buffer.slice(end + 2);
    }
  }
}

/** Follows the stream, reconnecting after 3 s (from the last event seen) when it ends. */
async function followTail(onChange) {
  for (;;) {
    try {
      await readStream(onChange);
      $('#tail-state').textContent = 'reconnecting…';
    } catch (error) {
      if (error instanceof Unauthorized) return;
      $('#tail-state').textContent = 'disconnected (' + error.message + '), reconnecting…';
    }
    await new Promise((resolve) => setTimeout(resolve, 3000));
  }
}

function setupAuditSwitch() {
  $('#audit-on').addEventListener('click', () => {
    apiJson('PUT', '/api/audit', { enabled: true })
      .then((state) => showAuditState(state.enabled))
      .catch(reportError);
  });
  return apiJson('GET', '/api/audit').then((state) => showAuditState(state.enabled));
}
`;
