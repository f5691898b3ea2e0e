/**
 * Whether an audit-stream client has fallen too far behind, asked of the
 * connection (net/send-queue.ts) now and then as the stream writes.
 *
 * In: the bytes the stream writes (`wrote`), and a probe that says how many
 * bytes the client has not taken in yet. Out: `behind`, and `onChange` each
 * time a probe's answer is in. The probe is asked every 256 KiB written; a
 * client more than 512 KiB behind is behind until it is under 256 KiB
 * again, asked every 250 ms meanwhile. One probe runs at a time; nothing is
 * asked once the stream is closed.
 */

const PROBE_EVERY_BYTES = 256 * 1024;
const BEHIND_BYTES = 512 * 1024;
const CAUGHT_UP_BYTES = 256 * 1024;
const RECHECK_MS = 250;

export class StallWatch {
  private isBehind = false;
  private written = 0;
  private probedAt = 0;
  private probing = false;
  private recheck: NodeJS.Timeout | undefined;

  constructor(
    private readonly backlog: (() => Promise<number | undefined>) | undefined,
    /** The stream is gone: stop asking. */
    private readonly closed: () => boolean,
    private readonly onChange: () => void,
  ) {}

  get behind(): boolean {
    return this.isBehind;
  }

  /** Counts `bytes` written; asks again once another 256 KiB went out. */
  wrote(bytes: number): void {
    this.written += bytes;
    if (this.written - this.probedAt >= PROBE_EVERY_BYTES) {
      this.probedAt = this.written;
      this.probe();
    }
  }

  stop(): void {
    if (this.recheck) clearTimeout(this.recheck);
  }

  private readonly probe = (): void => {
    const backlog = this.backlog;
    if (!backlog || this.probing || this.closed()) return;
    this.probing = true;
    void backlog().then((bytes) => {
      this.probing = false;
      if (this.closed()) return;
      this.isBehind = bytes !== undefined && bytes > (this.isBehind ? CAUGHT_UP_BYTES : BEHIND_BYTES);
      this.onChange();
      if (this.isBehind) this.recheck = setTimeout(this.probe, RECHECK_MS);
    });
  };
}
