/**
 * The web console's page (`/ui`): its layout; the script fills it in.
 * Text only, served by routes/ui.ts. It is a String.raw template: no backticks or dollar-braces inside.
 */
export const CONSOLE_HTML = String.raw`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="referrer" content="no-referrer" />
    <link rel="icon" href="data:," />
    <title>GopherPost console</title>
    <link rel="stylesheet" href="/ui/console.css" />
    <script type="module" src="/ui/console.js"></script>
  </head>
  <body>
    <header>
      <h1>GopherPost</h1>
      <span id="status" role="status">connecting…</span>
      <button id="signout" type="button" hidden>Forget token</button>
    </header>
    <form id="login" hidden>
      <p id="login-reason">This daemon asks for its admin token (SMTP_ADMIN_TOKEN).</p>
      <label>Admin token <input id="token" type="password" autocomplete="off" required /></label>
      <button type="submit">Sign in</button>
      <p class="note">Kept in this tab only (sessionStorage) and sent as a Bearer header.</p>
    </form>
    <main id="console">
      <section id="graphs-panel">
        <h2>Last hour</h2>
        <div class="graphs">
          <figure>
            <figcaption>Throughput per sample: <span class="k-received">received</span>,
              <span class="k-delivered">delivered</span>, <span class="k-deferred">deferred</span>,
              <span class="k-bounced">bounced</span></figcaption>
            <svg id="graph-throughput" viewBox="0 0 600 160" role="img" aria-label="throughput"></svg>
          </figure>
          <figure>
            <figcaption>Queue size (recipients waiting)</figcaption>
            <svg id="graph-depth" viewBox="0 0 600 160" role="img" aria-label="queue size"></svg>
          </figure>
        </div>
      </section>
      <section id="destinations-panel">
        <h2>Queue by destination <span id="depth" class="muted"></span></h2>
        <table id="destinations">
          <thead>
            <tr><th>Destination</th><th>Waiting</th><th>Oldest</th><th>Last error</th><th></th></tr>
          </thead>
          <tbody></tbody>
        </table>
        <h3>Waiting recipients <span id="queue-filter" class="muted"></span></h3>
        <table id="queue">
          <thead>
            <tr><th>Message</th><th>Recipient</th><th>Status</th><th>Attempts</th><th>Next attempt</th>
              <th>Last response</th><th></th></tr>
          </thead>
          <tbody></tbody>
        </table>
      </section>
      <section id="tail-panel">
        <h2>Audit tail <span id="tail-state" class="muted"></span></h2>
        <p id="audit-off" hidden>
          Audit logging is off: the tail stays empty until it is switched on.
          <button id="audit-on" type="button">Switch audit logging on</button>
        </p>
        <ol id="tail"></ol>
      </section>
      <section id="message-panel" hidden>
        <h2>Message <code id="message-id"></code>
          <button id="message-raw" type="button">Download raw</button>
          <button id="message-close" type="button">Close</button></h2>
        <dl id="message-envelope"></dl>
        <table id="message-recipients">
          <thead>
            <tr><th>Recipient</th><th>Status</th><th>Attempts</th><th>Next attempt</th><th>Last response</th></tr>
          </thead>
          <tbody></tbody>
        </table>
        <h3>History</h3>
        <ol id="message-history"></ol>
      </section>
    </main>
  </body>
</html>
`;
