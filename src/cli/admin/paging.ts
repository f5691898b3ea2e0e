/**
 * Paging for the listing commands (`queue ls`, `messages ls`): the
 * `--limit`, `--after` and `--all` options, the query string they make, and
 * the walk that follows `next` a page at a time. Each page is handed on
 * before the next is asked for, so nothing holds the whole listing.
 */
import type { Command } from 'commander';
import { CliError, EXIT } from './errors.js';
import { formatTable, printJson, printJsonLine, type CliIo } from './output.js';

/** The API's largest page (and largest `top`). */
export const MAX_LIMIT = 1000;

/** The options as commander hands them over. */
export interface PagingFlags {
  readonly limit?: string;
  readonly after?: string;
  readonly all?: boolean;
}

export interface Paging {
  /** Undefined: the API's default (100). */
  readonly limit: number | undefined;
  readonly after: string | undefined;
  readonly all: boolean;
}

/** A page of any listing: only `next` (and the entries on it) matter here. */
export interface Paged {
  readonly next?: string;
  readonly count: number;
}

export function addPagingOptions(command: Command, what: string): Command {
  return command
    .option('--limit <n>', `${what} per page, 1-${MAX_LIMIT} (default 100)`)
    .option('--after <cursor>', 'start after this cursor (the one a previous page printed)')
    .option('--all', 'follow the pages to the end, printing each as it comes');
}

/** A count option: plain digits in 1..max, else a usage error naming the option. */
export function parseCount(flag: string, text: string | undefined, max = MAX_LIMIT): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\d{1,9}$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!(n >= 1 && n <= max)) throw new CliError(`${flag} "${text}": expected an integer from 1 to ${max}`, EXIT.usage);
  return n;
}

export function parsePaging(flags: PagingFlags): Paging {
  if (flags.after !== undefined && flags.after.trim() === '')
    throw new CliError('--after: expected a cursor', EXIT.usage);
  return { limit: parseCount('--limit', flags.limit), after: flags.after?.trim(), all: flags.all === true };
}

/** `?limit=N&after=CURSOR` (only the parts given). */
export function pageQuery(limit: number | undefined, after: string | undefined): string {
  const params = new URLSearchParams();
  if (limit !== undefined) params.set('limit', String(limit));
  if (after !== undefined) params.set('after', after);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/**
 * Fetches the page at `paging.after` and, with `--all`, every page after it,
 * calling `onPage` on each before asking for the next. Resolves with the
 * last page fetched.
 */
export async function walkPages<P extends Paged>(
  paging: Paging,
  fetchPage: (after: string | undefined) => Promise<P>,
  onPage: (page: P) => void,
): Promise<P> {
  let page = await fetchPage(paging.after);
  onPage(page);
  while (paging.all && page.next !== undefined) {
    page = await fetchPage(page.next);
    onPage(page);
  }
  return page;
}

/** The line that tells how to get the page after `next`. */
export function nextPageHint(command: string, paging: Paging, next: string): string {
  const limit = paging.limit === undefined ? '' : ` --limit ${paging.limit}`;
  return `more: gopherpost ${command}${limit} --after ${next}  (or --all for every page)\n`;
}

/**
 * Prints one page (or with `--all` every page, as each comes) as a table
 * whose header is printed once, or as JSON (JSON Lines with `--all`).
 * Resolves with the last page and how many entries were printed.
 */
export async function printPages<P extends Paged>(
  io: CliIo,
  options: { readonly paging: Paging; readonly json: boolean; readonly header: readonly string[] },
  fetchPage: (after: string | undefined) => Promise<P>,
  rowsOf: (page: P) => string[][],
): Promise<{ readonly last: P; readonly listed: number }> {
  const { paging, json, header } = options;
  let listed = 0;
  const last = await walkPages(paging, fetchPage, (page) => {
    if (json) return paging.all ? printJsonLine(io, page) : printJson(io, page);
    if (page.count === 0) return;
    io.out(formatTable(header, rowsOf(page), { omitHeader: listed > 0 }));
    listed += page.count;
  });
  return { last, listed };
}
