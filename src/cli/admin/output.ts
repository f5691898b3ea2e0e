/** Where command output goes, and the plain text and JSON forms it takes; tests pass a collector. */
export interface CliIo {
  out(text: string): void;
  /** Notices that are not the command's output (stderr). */
  err(text: string): void;
  /** Raw bytes (a stored message). */
  outBytes(chunk: Uint8Array): Promise<void>;
}

export const processIo: CliIo = {
  out: (text) => {
    process.stdout.write(text);
  },
  err: (text) => {
    process.stderr.write(text);
  },
  outBytes: (chunk) =>
    new Promise((resolve, reject) => {
      process.stdout.write(chunk, (err) => (err ? reject(err) : resolve()));
    }),
};

/** An API response, pretty-printed. */
export function printJson(io: CliIo, value: unknown): void {
  io.out(JSON.stringify(value, null, 2) + '\n');
}

/** An API response on one line (JSON Lines: one response per page when following pages). */
export function printJsonLine(io: CliIo, value: unknown): void {
  io.out(JSON.stringify(value) + '\n');
}

/** `n thing` or `n things`. */
export function plural(n: number, thing: string): string {
  return `${n} ${thing}${n === 1 ? '' : 's'}`;
}

export interface TableOptions {
  /** Longest cell before it is clipped with `…` (default 60). */
  readonly maxWidth?: number;
  /** Per column; columns not given are left-aligned. */
  readonly align?: readonly ('left' | 'right')[];
  /** Leave the header row out (a later page of a table already printed). */
  readonly omitHeader?: boolean;
}

function clip(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > width ? flat.slice(0, width - 1) + '…' : flat;
}

/** A plain text table with a header row, left-aligned unless told otherwise. */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  options: TableOptions = {},
): string {
  const { maxWidth = 60, align = [], omitHeader = false } = options;
  const cells = [header, ...rows].map((row) => row.map((cell) => clip(cell, maxWidth)));
  const widths = header.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  const pad = (cell: string, i: number, last: boolean): string => {
    if (align[i] === 'right') return cell.padStart(widths[i] ?? 0);
    return last ? cell : cell.padEnd(widths[i] ?? 0);
  };
  return cells
    .slice(omitHeader ? 1 : 0)
    .map(
      (row) =>
        row
          .map((cell, i) => pad(cell, i, i === row.length - 1))
          .join('  ')
          .trimEnd() + '\n',
    )
    .join('');
}
