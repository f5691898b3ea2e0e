/**
 * The web console's stylesheet (`/ui/console.css`).
 * Text only, served by routes/ui.ts. It is a String.raw template: no backticks or dollar-braces inside.
 */
export const CONSOLE_CSS = String.raw`:root {
  --fg: #1d232a;
  --muted: #66707a;
  --line: #d8dde2;
  --bg: #f6f7f9;
  --panel: #ffffff;
  --accent: #2f6fb0;
  --received: #2f6fb0;
  --delivered: #2e8b57;
  --deferred: #d08a1c;
  --bounced: #c0392b;
  font: 14px/1.4 system-ui, sans-serif;
  color: var(--fg);
  background: var(--bg);
}
body { margin: 0; }
header { display: flex; gap: 1em; align-items: baseline; padding: 0.6em 1.2em; background: #1d232a; color: #fff; }
header h1 { font-size: 1.2em; margin: 0; }
#status { color: #c9d1d9; }
main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 1em; padding: 1em; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 0.6em 1em; }
#graphs-panel, #message-panel { grid-column: 1 / -1; }
h2 { font-size: 1.05em; margin: 0.2em 0 0.6em; }
h3 { font-size: 0.95em; margin: 1em 0 0.4em; }
.muted, .note { color: var(--muted); font-weight: normal; }
.graphs { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
figure { margin: 0; }
figcaption { color: var(--muted); font-size: 0.9em; }
svg { width: 100%; height: auto; background: #fbfcfd; border: 1px solid var(--line); }
svg .axis { stroke: var(--line); }
svg text { fill: var(--muted); font-size: 11px; }
svg polyline { fill: none; stroke-width: 1.8; }
.s-received, .k-received { stroke: var(--received); color: var(--received); }
.s-delivered, .k-delivered { stroke: var(--delivered); color: var(--delivered); }
.s-deferred, .k-deferred { stroke: var(--deferred); color: var(--deferred); }
.s-bounced, .k-bounced { stroke: var(--bounced); color: var(--bounced); }
.s-depth { stroke: var(--accent); }
table { width: 100%; border-collapse: collapse; font-size: 0.92em; }
th, td { text-align: left; padding: 0.25em 0.4em; border-bottom: 1px solid var(--line); vertical-align: top; }
td.reply { max-width: 28em; overflow-wrap: anywhere; color: var(--muted); }
tr.held td:first-child::after { content: ' (held)'; color: var(--deferred); }
button { font: inherit; padding: 0.1em 0.6em; cursor: pointer; }
a { color: var(--accent); cursor: pointer; }
#tail { list-style: none; margin: 0; padding: 0; max-height: 32em; overflow: auto; font: 12px/1.35 ui-monospace, monospace; }
#tail li { border-bottom: 1px dotted var(--line); padding: 0.15em 0; overflow-wrap: anywhere; }
#tail .type { font-weight: bold; }
#audit-off { background: #fff6e0; padding: 0.5em; border-radius: 4px; }
#login { margin: 2em auto; max-width: 30em; background: var(--panel); padding: 1em; border: 1px solid var(--line); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2em 1em; }
dt { color: var(--muted); }
dd { margin: 0; }
.error { color: var(--bounced); }
@media (max-width: 900px) {
  main, .graphs { grid-template-columns: 1fr; }
}
[hidden] { display: none !important; }
`;
