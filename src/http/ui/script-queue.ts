/**
 * The web console's script, part 3: the queue by destination, waiting recipients, one message.
 * Text only, served by routes/ui.ts. It is a String.raw template: no backticks or dollar-braces inside.
 */
export const SCRIPT_QUEUE = String.raw`
// ---- queue by destination, waiting recipients, one message

let domainFilter;

function actionButton(label, action) {
  return el('button', { type: 'button', 'data-action': label.toLowerCase(), onclick: action }, label);
}

function act(work) {
  work()
    .then(() => refresh())
    .catch(reportError);
}

function destinationRow(row) {
  const error = row.lastError;
  const hold = row.held
    ? actionButton('Release', () =>
        act(() => api('DELETE', '/api/destinations/' + encodeURIComponent(row.domain) + '/hold')),
      )
    : actionButton('Hold', () => act(() => api('PUT', '/api/destinations/' + encodeURIComponent(row.domain) + '/hold')));
  const name = el('a', { onclick: () => filterDomain(row.domain) }, row.domain);
  return el(
    'tr',
    { 'data-domain': row.domain, class: row.held ? 'held' : undefined },
    el('td', {}, name),
    el('td', {}, row.waiting),
    el('td', {}, age(row.oldestAgeSeconds)),
    el('td', { class: 'reply' }, error ? localTime(error.time) + ' ' + error.outcome + ': ' + error.response : ''),
    el('td', {}, hold),
  );
}

function filterDomain(domain) {
  domainFilter = domainFilter === domain ? undefined : domain;
  $('#queue-filter').textContent = domainFilter ? 'at ' + domainFilter + ' (click it again for all)' : '';
  refresh();
}

function queueRow(entry) {
  const open = el('a', { onclick: () => showMessage(entry.id).catch(reportError) }, entry.id);
  return el(
    'tr',
    { 'data-id': entry.id, 'data-status': entry.status },
    el('td', {}, open),
    el('td', {}, entry.recipient),
    el('td', {}, entry.status),
    el('td', {}, entry.attempts),
    el('td', {}, localTime(entry.nextAttemptAt)),
    el('td', { class: 'reply' }, entry.lastResponse || ''),
    el(
      'td',
      {},
      actionButton('Retry', () => act(() => api('POST', '/api/queue/' + entry.id + '/retry'))),
      ' ',
      actionButton('Delete', () => {
        if (confirm('Delete message ' + entry.id + ' and all its recipients? No bounce is sent.')) {
          act(() => api('DELETE', '/api/queue/' + entry.id));
        }
      }),
    ),
  );
}

async function refreshQueue() {
  const [destinations, queue] = await Promise.all([
    apiJson('GET', '/api/destinations?top=50'),
    apiJson('GET', '/api/queue?limit=100'),
  ]);
  $('#destinations tbody').replaceChildren(...destinations.destinations.map(destinationRow));
  const entries = queue.recipients.filter(
    (entry) => !domainFilter || entry.recipient.toLowerCase().endsWith('@' + domainFilter),
  );
  $('#queue tbody').replaceChildren(...entries.map(queueRow));
  const count = (n, word) => n + ' ' + word + (n === 1 ? '' : 's');
  $('#depth').textContent =
    count(queue.depth, 'recipient') + ' waiting, ' + count(destinations.domains, 'destination') +
    (queue.next ? ' (recipients: first page)' : '');
}

function historyLine(entry) {
  const parts = [localTime(entry.time), entry.event];
  if (entry.recipient) parts.push('<' + entry.recipient + '>');
  if (entry.relay) parts.push('relay=' + entry.relay);
  if (entry.delayMs !== undefined) parts.push('delay=' + (entry.delayMs / 1000).toFixed(1) + 's');
  if (entry.status) parts.push('dsn=' + entry.status);
  if (entry.reply) parts.push('(' + entry.reply + ')');
  return el('li', {}, parts.join(' '));
}

let shownMessage;

async function showMessage(id) {
  const message = await apiJson('GET', '/api/messages/' + encodeURIComponent(id));
  shownMessage = message.id;
  $('#message-id').textContent = message.id;
  const fields = [
    ['From', '<' + message.sender + '>'],
    ['Received', localTime(message.receivedAt)],
    ['Size', message.size + ' bytes'],
    ['Client', message.clientAddress + ' (HELO ' + message.heloName + ')'],
    ['Authenticated as', message.user || '–'],
  ];
  $('#message-envelope').replaceChildren(...fields.flatMap(([name, value]) => [el('dt', {}, name), el('dd', {}, value)]));
  $('#message-recipients tbody').replaceChildren(
    ...message.recipients.map((r) =>
      el(
        'tr',
        { 'data-status': r.status },
        el('td', {}, r.recipient),
        el('td', {}, r.status),
        el('td', {}, r.attempts),
        el('td', {}, r.status === 'queued' || r.status === 'deferred' ? localTime(r.nextAttemptAt) : ''),
        el('td', { class: 'reply' }, r.lastResponse || ''),
      ),
    ),
  );
  const history = Array.isArray(message.history) ? message.history : [];
  $('#message-history').replaceChildren(
    ...(history.length > 0 ? history.map(historyLine) : [el('li', { class: 'muted' }, 'no history recorded')]),
  );
  $('#message-panel').hidden = false;
}

/** The raw message, fetched with the token and saved through a temporary object URL. */
async function downloadRaw() {
  if (!shownMessage) return;
  const blob = await (await api('GET', '/api/messages/' + encodeURIComponent(shownMessage) + '/raw')).blob();
  const url = URL.createObjectURL(blob);
  const link = el('a', { href: url, download: shownMessage + '.eml' });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function setupMessagePanel() {
  $('#message-raw').addEventListener('click', () => downloadRaw().catch(reportError));
  $('#message-close').addEventListener('click', () => {
    shownMessage = undefined;
    $('#message-panel').hidden = true;
  });
}
`;
