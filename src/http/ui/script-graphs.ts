/**
 * The web console's script, part 4: the graphs (inline SVG) and the start.
 * Text only, served by routes/ui.ts. It is a String.raw template: no backticks or dollar-braces inside.
 */
export const SCRIPT_GRAPHS = String.raw`
// ---- graphs: inline SVG from /api/stats

const SVG = 'http://www.w3.org/2000/svg';
const W = 600;
const H = 160;
const PAD = { left: 40, right: 8, top: 10, bottom: 20 };

function svgEl(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}

function drawGraph(svg, samples, series) {
  const max = Math.max(1, ...samples.flatMap((s) => series.map((name) => s[name])));
  const span = Math.max(1, samples.length - 1);
  const x = (i) => PAD.left + ((W - PAD.left - PAD.right) * i) / span;
  const y = (v) => H - PAD.bottom - ((H - PAD.top - PAD.bottom) * v) / max;
  const nodes = [
    svgEl('line', { class: 'axis', x1: PAD.left, y1: y(0), x2: W - PAD.right, y2: y(0) }),
    svgEl('line', { class: 'axis', x1: PAD.left, y1: y(max), x2: W - PAD.right, y2: y(max) }),
  ];
  const top = svgEl('text', { x: 4, y: y(max) + 4 });
  top.textContent = String(max);
  const bottom = svgEl('text', { x: 4, y: y(0) + 4 });
  bottom.textContent = '0';
  const first = svgEl('text', { x: PAD.left, y: H - 4 });
  first.textContent = samples.length ? new Date(samples[0].time).toLocaleTimeString() : 'no samples yet';
  const last = svgEl('text', { x: W - PAD.right, y: H - 4, 'text-anchor': 'end' });
  last.textContent = samples.length ? new Date(samples[samples.length - 1].time).toLocaleTimeString() : '';
  nodes.push(top, bottom, first, last);
  for (const name of series) {
    const points = samples.map((s, i) => x(i).toFixed(1) + ',' + y(s[name]).toFixed(1)).join(' ');
    nodes.push(svgEl('polyline', { class: 's-' + name, 'data-series': name, points }));
  }
  svg.replaceChildren(...nodes);
}

async function refreshGraphs() {
  const stats = await apiJson('GET', '/api/stats');
  drawGraph($('#graph-throughput'), stats.samples, ['received', 'delivered', 'deferred', 'bounced']);
  drawGraph($('#graph-depth'), stats.samples, ['depth']);
}

// ---- start

let refreshing = false;
async function refresh() {
  if (refreshing) return;
  refreshing = true;
  try {
    await Promise.all([refreshQueue(), refreshGraphs(), shownMessage ? showMessage(shownMessage) : undefined]);
    setStatus('updated ' + new Date().toLocaleTimeString());
  } catch (error) {
    reportError(error);
  } finally {
    refreshing = false;
  }
}

let started = false;
function start() {
  $('#signout').hidden = !sessionStorage.getItem(TOKEN_KEY);
  setupAuditSwitch()
    .then(() => {
      refresh();
      if (started) return;
      started = true;
      followTail(debounce(refresh, 250));
      setInterval(refresh, 5000);
    })
    .catch(reportError);
}

setupLogin(start);
setupMessagePanel();
start();
`;
