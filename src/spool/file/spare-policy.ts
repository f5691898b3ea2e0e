/** A log that wrote at least this much since the last look is busy: it should have spares ready. */
export const BUSY_BYTES = 1024 * 1024;
/** Looks in a row without being busy before the spares a busy spell left are given back. */
export const QUIET_LOOKS = 10;

export type SpareAction = 'prepare' | 'trim' | 'none';

/**
 * What to do about spare log segments at one look (once a second): a busy log
 * gets its zero-filled spares made (a no-op when they exist); one quiet for
 * `QUIET_LOOKS` looks gives back all but two, once.
 */
export function spareAction(
  bytesSinceLastLook: number,
  quietLooks: number,
): { action: SpareAction; quietLooks: number } {
  if (bytesSinceLastLook >= BUSY_BYTES) return { action: 'prepare', quietLooks: 0 };
  const quiet = quietLooks + 1;
  return { action: quiet === QUIET_LOOKS ? 'trim' : 'none', quietLooks: quiet };
}
