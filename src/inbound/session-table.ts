/**
 * The live-session table (session-policy.ts keeps one).
 *
 * Owns: session id → client IP, and the counts per IP.
 * In:   admitted and closed sessions. Out: totals for the connection limits.
 */

/** Live sessions counted for the connection limits (total and per client IP). */
export class SessionTable {
  private readonly byIp = new Map<string, number>();
  private readonly sessions = new Map<string, string>(); // session id → ip

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

  remove(id: string): boolean {
    const ip = this.sessions.get(id);
    if (ip === undefined) return false;
    this.sessions.delete(id);
    const left = this.forIp(ip) - 1;
    if (left > 0) this.byIp.set(ip, left);
    else this.byIp.delete(ip);
    return true;
  }
}
