import { DIALECTS, EVENT_TYPES, type DialectName, type EventType } from '../core/index.js';
import type { EventColumns } from '../store/index.js';
import type { ConversionInput } from './engine.js';
import { f64, i32 } from './columns.js';

/** A conversion as a run judges it, with what results and data quality read. */
export interface Conversion extends ConversionInput {
  value: number | null;
  source: DialectName;
}

// Positions of the string fields in EventColumns.refs (STRING_FIELDS order).
const NAME = 0;
const VISITOR = 2;
const SESSION = 3;
const DOMAIN = 4;
const USER = 5;

/**
 * A workspace's conversions in columns: a million conversions are a few arrays, and the object
 * the engine reads is made for one conversion at a time (and collected young).
 */
export class Conversions {
  readonly #id = f64();
  readonly #occurredAt = f64();
  readonly #receivedAt = f64();
  readonly #value = f64();
  readonly #source = i32();
  readonly #name: string[] = [];
  readonly #visitorId: (string | null)[] = [];
  readonly #sessionId: (string | null)[] = [];
  readonly #userDomain: (string | null)[] = [];
  readonly #userId: (string | null)[] = [];

  get length(): number {
    return this.#name.length;
  }

  at(i: number): Conversion {
    const value = this.#value.get(i);
    return {
      id: this.#id.get(i), name: this.#name[i]!, occurredAt: this.#occurredAt.get(i), receivedAt: this.#receivedAt.get(i),
      visitorId: this.#visitorId[i]!, sessionId: this.#sessionId[i]!, userDomain: this.#userDomain[i]!, userId: this.#userId[i]!,
      value: Number.isNaN(value) ? null : value, source: DIALECTS[this.#source.get(i)]!,
    };
  }

  idAt(i: number): number {
    return this.#id.get(i);
  }

  *[Symbol.iterator](): Iterator<Conversion> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }

  /** Adds a chunk's conversions: the events for which isConversion(type, name, occurredAt) holds. */
  addColumns(c: EventColumns, isConversion: (type: EventType, name: string, occurredAt: number) => boolean): void {
    const { n, refs, strings } = c;
    const s = (field: number, i: number): string | null => {
      const ref = refs[field * n + i]!;
      return ref === 0 ? null : strings[ref]!;
    };
    for (let i = 0; i < n; i++) {
      const name = s(NAME, i);
      if (name === null || !isConversion(EVENT_TYPES[c.type[i]!]!, name, c.occurredAt[i]!)) continue;
      this.#id.push(c.id[i]!);
      this.#occurredAt.push(c.occurredAt[i]!);
      this.#receivedAt.push(c.receivedAt[i]!);
      this.#value.push(c.value[i]!);
      this.#source.push(c.source[i]!);
      this.#name.push(name);
      this.#visitorId.push(s(VISITOR, i));
      this.#sessionId.push(s(SESSION, i));
      this.#userDomain.push(s(DOMAIN, i));
      this.#userId.push(s(USER, i));
    }
  }
}
