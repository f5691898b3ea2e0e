/**
 * Writes docs/mutation-survivors.md: every mutant the last measurement left
 * undetected (survived, or covered by no listed test), per folder and file,
 * with the argument for it from test/mutation/survivor-notes.json where one
 * is written, and the score table the rows of docs/testing.md come from.
 *
 *   node test/mutation/survivors.mjs          # writes the page
 *   node test/mutation/survivors.mjs --table  # prints only the score table
 *
 * Notes are keyed by `file:line` (every survivor on that line),
 * `file:line:Mutator` (one kind on it), `file:line:column` (the survivors
 * starting at that column) or `file:line:column:Mutator`, the narrowest
 * first; each is `{ "kind": …, "why": … }`
 * with kind one of `equivalent` (no test can tell), `unreachable` (the code
 * never runs with the values that would tell), `untested` (a real
 * difference no listed test checks yet), `killed since` (a test written
 * after the measurement fails with this mutant written in by hand; `why`
 * names it; the next run counts it as killed).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { FOLDERS as LISTS } from '../../stryker.config.mjs';

const root = new URL('../../', import.meta.url);
const report = JSON.parse(readFileSync(new URL('test/mutation/stryker-incremental.json', root), 'utf8'));
const notes = JSON.parse(readFileSync(new URL('test/mutation/survivor-notes.json', root), 'utf8'));

const FOLDERS = Object.keys(LISTS).map((name) => `src/${name}`);
const SUBFOLDERS = ['src/delivery/smtp', 'src/delivery/tls', 'src/spool/file', 'src/spool/redis'];
const undetected = (m) => m.status === 'Survived' || m.status === 'NoCoverage';

function count(prefix, exact = false) {
  const c = { mutants: 0, killed: 0, timeout: 0, survived: 0, noCoverage: 0, other: 0 };
  for (const [name, file] of Object.entries(report.files)) {
    const inside = exact
      ? name.startsWith(`${prefix}/`) && !name.slice(prefix.length + 1).includes('/')
      : name.startsWith(`${prefix}/`);
    if (!inside) continue;
    for (const m of file.mutants) {
      c.mutants += 1;
      if (m.status === 'Killed') c.killed += 1;
      else if (m.status === 'Timeout') c.timeout += 1;
      else if (m.status === 'Survived') c.survived += 1;
      else if (m.status === 'NoCoverage') c.noCoverage += 1;
      else c.other += 1;
    }
  }
  return c;
}

const pct = (c) => {
  const scored = c.killed + c.timeout + c.survived + c.noCoverage;
  return scored === 0 ? '–' : `${((100 * (c.killed + c.timeout)) / scored).toFixed(1)} %`;
};
const n = (x) => x.toLocaleString('en-US');
const row = (label, c, bold = false) =>
  `| ${label} | ${n(c.mutants)} | ${n(c.killed)} | ${n(c.timeout)} | ${n(c.survived)} | ${n(c.noCoverage)} | ${n(c.other)} | ${bold ? `**${pct(c)}**` : pct(c)} |`;

function table() {
  const lines = [
    '| folder | mutants | killed | timed out | survived | no coverage | compile errors | score |',
    '|---|---|---|---|---|---|---|---|',
  ];
  const total = { mutants: 0, killed: 0, timeout: 0, survived: 0, noCoverage: 0, other: 0 };
  for (const folder of FOLDERS) {
    const c = count(folder);
    for (const k of Object.keys(total)) total[k] += c[k];
    lines.push(row(`\`${folder}\``, c, true));
  }
  for (const folder of SUBFOLDERS) lines.push(row(`↳ \`${folder}\``, count(folder)));
  for (const folder of ['src/delivery', 'src/spool']) lines.push(row(`↳ \`${folder}/*.ts\``, count(folder, true)));
  lines.push(row('all six folders', total, true));
  return lines.join('\n');
}

function noteOf(file, m) {
  const { line, column } = m.location.start;
  return (
    notes[`${file}:${line}:${column}:${m.mutatorName}`] ??
    notes[`${file}:${line}:${column}`] ??
    notes[`${file}:${line}:${m.mutatorName}`] ??
    notes[`${file}:${line}`]
  );
}

const cell = (text) => text.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();

function survivors() {
  const out = [];
  const kinds = {};
  for (const folder of FOLDERS) {
    const files = Object.entries(report.files)
      .filter(([name]) => name.startsWith(`${folder}/`))
      .sort(([a], [b]) => a.localeCompare(b));
    const rows = [];
    for (const [name, file] of files) {
      const lines = file.source.split('\n');
      for (const m of file.mutants.filter(undetected).sort((a, b) => a.location.start.line - b.location.start.line)) {
        const note = noteOf(name, m);
        const kind = note?.kind ?? 'not yet argued';
        kinds[kind] = (kinds[kind] ?? 0) + 1;
        const code = cell(lines[m.location.start.line - 1] ?? '').slice(0, 90);
        const replacement = cell(String(m.replacement ?? '')).slice(0, 60);
        rows.push(
          `| \`${name.slice(4)}:${m.location.start.line}\` | ${m.status === 'NoCoverage' ? 'no coverage' : 'survived'} | ${m.mutatorName} → \`${replacement}\` | \`${code}\` | ${kind} | ${note ? cell(note.why) : ''} |`,
        );
      }
    }
    out.push(`## \`${folder}\` (${rows.length})`, '');
    if (rows.length > 0)
      out.push('| where | status | mutation | code | kind | why |', '|---|---|---|---|---|---|', ...rows);
    else out.push('None.');
    out.push('');
  }
  return { body: out.join('\n'), kinds };
}

if (process.argv.includes('--table')) {
  console.log(table());
} else {
  const { body, kinds } = survivors();
  const summary = Object.entries(kinds)
    .sort(([, a], [, b]) => b - a)
    .map(([kind, k]) => `${kind}: ${n(k)}`)
    .join(', ');
  const page = [
    '# Surviving mutants',
    '',
    'Every mutant the committed measurement (`test/mutation/stryker-incremental.json`) left',
    'undetected, with the argument for it where one is written',
    '(`test/mutation/survivor-notes.json`). Written by `node test/mutation/survivors.mjs`;',
    'how the measurement was made, and when: [testing.md](testing.md).',
    '',
    'Kinds: *equivalent* — no test can tell the mutant from the code; *unreachable* — the',
    'mutated code never runs with values that would tell; *untested* — a real difference',
    'that no listed test checks yet; *killed since* — a test written after the measurement',
    'fails with the mutant written in by hand (the next run counts it); *not yet argued* —',
    'not looked at.',
    '',
    table(),
    '',
    `Undetected by kind: ${summary}.`,
    '',
    body,
  ].join('\n');
  writeFileSync(new URL('docs/mutation-survivors.md', root), page);
  console.log(`docs/mutation-survivors.md: ${summary}`);
}
