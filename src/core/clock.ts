/** Where time comes from. Everything that needs "now" is handed one; nothing reads Date.now() itself. */
export interface Clock {
  /** UTC epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

/** A clock that only moves when told to: for tests and for replaying fixtures at a fixed instant. */
export class ManualClock implements Clock {
  #now: number;
  constructor(start: number) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  set(ms: number): void {
    this.#now = ms;
  }
  advance(ms: number): void {
    this.#now += ms;
  }
}

/** The system clock shifted so that it read `start` when created: time still passes, from another instant. */
export class ShiftedClock implements Clock {
  readonly #offset: number;
  constructor(start: number, private readonly base: Clock = systemClock) {
    this.#offset = start - base.now();
  }
  now(): number {
    return this.base.now() + this.#offset;
  }
}
