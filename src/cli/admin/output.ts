/** Where command output goes; tests pass a collector. */
export interface CliIo {
  out(text: string): void;
  /** Raw bytes (a stored message). */
  outBytes(chunk: Uint8Array): Promise<void>;
}

export const processIo: CliIo = {
  out: (text) => {
    process.stdout.write(text);
  },
  outBytes: (chunk) =>
    new Promise((resolve, reject) => {
      process.stdout.write(chunk, (err) => (err ? reject(err) : resolve()));
    }),
};

function clip(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > width ? flat.slice(0, width - 1) + '…' : flat;
}

/** A plain, left-aligned text table with a header row. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], maxWidth = 60): string {
  const cells = [header, ...rows].map((row) => row.map((cell) => clip(cell, maxWidth)));
  const widths = header.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  return (
    cells
      .map((row) =>
        row
          .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
