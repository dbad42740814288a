/**
 * The figures ingestion admission decides on: bytes of bodies held, bytes answered lately, and
 * how late the event loop runs. Times are monotonic milliseconds (performance.now by default).
 */

/** Bytes answered per second over the last two seconds, in 100 ms slots. */
export class Throughput {
  static readonly SLOT_MS = 100;
  readonly #slots = new Float64Array(20);
  #slot = -1;
  constructor(private readonly now: () => number) {}

  add(bytes: number): void {
    const slots = this.#roll();
    const i = this.#slot % slots.length;
    slots[i] = slots[i]! + bytes;
  }

  perSecond(): number {
    let sum = 0;
    for (const b of this.#roll()) sum += b;
    return sum / ((this.#slots.length * Throughput.SLOT_MS) / 1000);
  }

  #roll(): Float64Array {
    const slot = Math.floor(this.now() / Throughput.SLOT_MS);
    if (this.#slot < 0 || slot - this.#slot >= this.#slots.length) this.#slots.fill(0);
    else for (let s = this.#slot + 1; s <= slot; s++) this.#slots[s % this.#slots.length] = 0;
    this.#slot = Math.max(this.#slot, slot);
    return this.#slots;
  }
}

/**
 * How late the event loop runs, from a timer that should fire every TICK_MS. Read between two
 * ticks it also counts the time since the last one: a request seen in the middle of a long turn
 * of the loop knows the loop is late now, not only at its next tick.
 */
export class LoopLag {
  static readonly TICK_MS = 50;
  #last: number;
  #lag = 0;
  #timer: NodeJS.Timeout | null = null;
  constructor(private readonly now: () => number) {
    this.#last = now();
  }

  start(): void {
    this.#last = this.now();
    this.#timer = setInterval(() => {
      const t = this.now();
      // The last lateness fades over a few ticks instead of being forgotten at once.
      this.#lag = Math.max(t - this.#last - LoopLag.TICK_MS, this.#lag * 0.7);
      this.#last = t;
    }, LoopLag.TICK_MS).unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  ms(): number {
    if (this.#timer === null) return 0;
    return Math.max(this.#lag, this.now() - this.#last - LoopLag.TICK_MS);
  }
}

/**
 * Ingestion bodies in the process, counted two ways. `held` bounds memory: what admitted
 * requests have set aside or received, never past `limit`. `work` bounds waiting: the bytes that
 * have actually arrived and are not answered yet, plus what was admitted in this turn of the event
 * loop (requests admitted together have not sent their bodies yet). A body announced but not
 * arriving is no work: a client trickling one holds memory (for a while, see admission.ts) but
 * does not make others wait.
 *
 * A new request is admitted when it fits in memory and the service keeps up with it: the work
 * with it stays within `floor` (an idle service always takes the largest body), or within what
 * the service answered in the last `targetMs` at its current pace (Little's law: what is admitted
 * now waits about that long for the writer) while the event loop runs no later than a quarter of
 * `targetMs` (the CPU is not saturated: requests it has not read yet would wait behind the work).
 */
export class InflightBytes {
  #held = 0;
  #work = 0;
  #turn = 0;
  readonly answered: Throughput;
  readonly lag: LoopLag;
  constructor(readonly limit: number, readonly targetMs: number, readonly floor: number, now: () => number = () => performance.now()) {
    this.answered = new Throughput(now);
    this.lag = new LoopLag(now);
  }

  get held(): number {
    return this.#held;
  }

  get work(): number {
    return this.#work + this.#turn;
  }

  /** Admits a request announcing `n` bytes if it fits (see the class) and sets them aside; false, and nothing taken, if not. */
  admit(n: number): boolean {
    const work = this.work + n;
    const fits = this.#held + n <= this.limit && (work <= this.floor
      || (work <= (this.answered.perSecond() * this.targetMs) / 1000 && this.lag.ms() <= this.targetMs / 4));
    if (!fits) return false;
    this.#held += n;
    if (this.#turn === 0 && n > 0) setImmediate(() => { this.#turn = 0; });
    this.#turn += n;
    return true;
  }

  /** Sets aside `n` more bytes for a body already admitted, if they fit in memory. */
  take(n: number): boolean {
    if (this.#held + n > this.limit) return false;
    this.#held += n;
    return true;
  }

  give(n: number): void {
    this.#held -= n;
  }

  /** Bytes of an admitted body arrived; `done` gives back all that arrived of one once it is answered or cut. */
  arrived(n: number): void {
    this.#work += n;
  }

  done(n: number): void {
    this.#work -= n;
  }
}
