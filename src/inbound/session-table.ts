/**
 * The live-session table (session-policy.ts keeps one).
 *
 * Owns: session id → client IP, the counts per IP, and each session's MAIL count.
 * In:   admitted and closed sessions. Out: totals for the connection limits.
 */

/** Live sessions counted for the connection limits (total and per client IP). */
export class SessionTable {
  private readonly byIp = new Map<string, number>();
  private readonly sessions = new Map<string, string>(); // session id → ip
  private readonly mails = new Map<string, number>(); // session id → MAIL commands so far

  get total(): number {
    return this.sessions.size;
  }

  forIp(ip: string): number {
    return this.byIp.get(ip) ?? 0;
  }

  has(id: string): boolean {
    return this.sessions.has(id);
  }

  add(id: string, ip: string): void {
    if (this.sessions.has(id)) return;
    this.sessions.set(id, ip);
    this.byIp.set(ip, this.forIp(ip) + 1);
  }

  /** Counts one more MAIL of a live session; returns how many it gave so far. */
  countMail(id: string): number {
    const count = (this.mails.get(id) ?? 0) + 1;
    if (this.sessions.has(id)) this.mails.set(id, count);
    return count;
  }

  remove(id: string): boolean {
    const ip = this.sessions.get(id);
    if (ip === undefined) return false;
    this.sessions.delete(id);
    this.mails.delete(id);
    const left = this.forIp(ip) - 1;
    if (left > 0) this.byIp.set(ip, left);
    else this.byIp.delete(ip);
    return true;
  }
}
