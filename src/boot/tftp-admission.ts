// Which read requests the TFTP server takes on, so that requests nobody answers cannot starve the
// clients that do. A read request costs nothing to send and may come from a forged address; a
// transfer is only known to have a real client once that client acknowledges its first packet (the
// OACK of RFC 2347, or DATA 1 of RFC 1350). So transfers are held in two pools:
//
// - answered: the client has acknowledged something. At most `maxAnswered` at once; a request that
//   finds this pool full is refused, and so is a transfer whose first answer comes when it is full.
// - unanswered: the first packet is out, no answer yet. At most `maxUnanswered` at once; a new
//   request that finds it full takes the place of the oldest one, which is let go without a word.
//   A flood of requests can then only push out other unanswered transfers, never answered ones,
//   and holds no more than this pool whatever its size.
//
// One client address holds at most `maxPerAddress` transfers, answered or not: past that its
// requests are refused and nothing is held for them. Pure bookkeeping, no I/O: the server acts.

export interface TftpAdmissionLimits {
  /** Transfers whose client has answered, at once. */
  readonly maxAnswered: number;
  /** Transfers whose client has not answered yet, at once; past it the oldest is let go. */
  readonly maxUnanswered: number;
  /** Transfers from one client address, answered or not. */
  readonly maxPerAddress: number;
}

export type TftpAdmissionVerdict =
  /** Take the request on; when `evicted` is a key, let that transfer go first. */
  | { readonly admit: true; readonly evicted: string | undefined }
  /** Refuse it with this message, or drop it silently (undefined: a request already being served). */
  | { readonly admit: false; readonly refusal: string | undefined };

export class TftpAdmission {
  private readonly limits: TftpAdmissionLimits;
  /** Transfer key → client address, oldest first. */
  private readonly unanswered = new Map<string, string>();
  private readonly answered = new Map<string, string>();
  private readonly perAddress = new Map<string, number>();

  constructor(limits: TftpAdmissionLimits) {
    this.limits = limits;
  }

  /** What to do with a read request from `address`, its transfer known by `key` (address and port). */
  request(key: string, address: string): TftpAdmissionVerdict {
    // A request sent again while its transfer runs (the client's own retransmission) is not another one.
    if (this.holds(key)) return { admit: false, refusal: undefined };
    if ((this.perAddress.get(address) ?? 0) >= this.limits.maxPerAddress) {
      return { admit: false, refusal: `too many transfers from ${address}: try again later` };
    }
    if (this.answered.size >= this.limits.maxAnswered) {
      return { admit: false, refusal: 'too many transfers: try again later' };
    }
    let evicted: string | undefined;
    if (this.unanswered.size >= this.limits.maxUnanswered) {
      evicted = this.unanswered.keys().next().value;
      if (evicted !== undefined) this.release(evicted);
    }
    this.unanswered.set(key, address);
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    return { admit: true, evicted };
  }

  /**
   * The client of `key` has answered: its transfer moves to the answered pool. False when that pool
   * is full (the transfer is released; the server ends it), or when `key` is no longer held.
   */
  answer(key: string): boolean {
    const address = this.unanswered.get(key);
    if (address === undefined) return this.answered.has(key);
    if (this.answered.size >= this.limits.maxAnswered) {
      this.release(key);
      return false;
    }
    this.unanswered.delete(key);
    this.answered.set(key, address);
    return true;
  }

  /** Whether `key` is held, answered or not. */
  holds(key: string): boolean {
    return this.unanswered.has(key) || this.answered.has(key);
  }

  /** The transfer of `key` is over (or was let go); releasing it twice is harmless. */
  release(key: string): void {
    const address = this.unanswered.get(key) ?? this.answered.get(key);
    if (address === undefined) return;
    this.unanswered.delete(key);
    this.answered.delete(key);
    const left = (this.perAddress.get(address) ?? 1) - 1;
    if (left > 0) this.perAddress.set(address, left);
    else this.perAddress.delete(address);
  }

  /** Transfers held in each pool. */
  counts(): { readonly answered: number; readonly unanswered: number } {
    return { answered: this.answered.size, unanswered: this.unanswered.size };
  }
}
