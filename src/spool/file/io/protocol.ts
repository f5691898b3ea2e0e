/**
 * The messages between the event loop and the spool's I/O threads (types
 * only, plus the error shape). A batch of requests travels as one message;
 * each request gets exactly one response with its `id`.
 */

/** A request to an I/O thread. */
export type IoRequest =
  /** Opens the log at segment `seq` (or past the spares' numbers). */
  | { readonly id: number; readonly kind: 'open'; readonly seq: number }
  /** Starts the next segment; answers the sealed one. */
  | { readonly id: number; readonly kind: 'rotate' }
  /**
   * Logs `frame`, then writes `frame[bodyAt..]` to `names[0]` (new file, 0600) and links the other
   * names. `due`, when given, is appended to the due journal once the log write is synced.
   */
  | {
      readonly id: number;
      readonly kind: 'message';
      readonly frame: Uint8Array;
      readonly bodyAt: number;
      readonly names: readonly string[];
      readonly due?: Uint8Array;
    }
  /** Logs `frame` (and appends `due` to the journal after the sync). */
  | { readonly id: number; readonly kind: 'record'; readonly frame: Uint8Array; readonly due?: Uint8Array }
  /** Appends due-journal records to the file at `path` from now on (ordered with commits). */
  | { readonly id: number; readonly kind: 'journal'; readonly path: string }
  /** Writes a state file in place (background: done between other requests). */
  | { readonly id: number; readonly kind: 'state'; readonly path: string; readonly json: string }
  /**
   * Writes `data` to `path` through a temporary file: `continued` appends to the one a previous
   * request began, `more` leaves it open; the last part syncs it and renames it into place.
   */
  | {
      readonly id: number;
      readonly kind: 'put';
      readonly path: string;
      readonly data: Uint8Array;
      readonly continued?: boolean;
      readonly more?: boolean;
    }
  /** Removes files; missing ones are fine. */
  | { readonly id: number; readonly kind: 'unlink'; readonly paths: readonly string[] }
  /** Reads a whole file; answers null when it does not exist. */
  | { readonly id: number; readonly kind: 'read'; readonly path: string }
  /** syncfs(2) of the file system holding `root` (coreutils `sync --file-system`); answers whether it ran. */
  | { readonly id: number; readonly kind: 'syncfs'; readonly root: string }
  /** Sealed segments a checkpoint is done with: kept as spares (up to 8 and 128 MiB), else removed. */
  | { readonly id: number; readonly kind: 'recycle'; readonly seqs: readonly number[] }
  /** Makes zero-filled spare segments until there are two. */
  | { readonly id: number; readonly kind: 'prepare' }
  /** Removes all but the two largest spares (the log has been quiet). */
  | { readonly id: number; readonly kind: 'trim' }
  /** Ends the thread after everything sent before. */
  | { readonly id: number; readonly kind: 'close' };

export type RequestKind = IoRequest['kind'];

export interface IoFailure {
  readonly message: string;
  readonly code?: string;
  readonly syscall?: string;
  readonly path?: string;
}

export type IoResponse =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: IoFailure };

/** What a log commit answers: the segment the record is in, and its size after the commit. */
export interface Committed {
  readonly seq: number;
  readonly bytes: number;
  /** Names a `message` request created. */
  readonly placed?: readonly string[];
  /** A `message` whose record was logged but whose body could not be placed (the caller takes the record back). */
  readonly unplaced?: string;
  /** The commit grew its segment's file (no spare was ready): worth asking for spares. */
  readonly grew?: boolean;
  /** The request's due-journal records could not be appended (the journal needs rewriting from memory). */
  readonly unjournaled?: boolean;
}

/** What `open` and `rotate` answer. */
export interface Opened {
  readonly seq: number;
  readonly sealed: number;
  readonly bytes: number;
}

/** An error as it can cross to the other thread. */
export function toFailure(error: unknown): IoFailure {
  const e = error as NodeJS.ErrnoException;
  return {
    message: e instanceof Error ? e.message : String(error),
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(typeof e.syscall === 'string' ? { syscall: e.syscall } : {}),
    ...(typeof e.path === 'string' ? { path: e.path } : {}),
  };
}

/** The error again, on the receiving side. */
export function fromFailure(failure: IoFailure): Error {
  const error = new Error(failure.message) as NodeJS.ErrnoException;
  if (failure.code !== undefined) error.code = failure.code;
  if (failure.syscall !== undefined) error.syscall = failure.syscall;
  if (failure.path !== undefined) error.path = failure.path;
  return error;
}
