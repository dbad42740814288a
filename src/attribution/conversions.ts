import { DIALECTS, EVENT_TYPES, type DialectName, type EventType } from '../core/index.js';
import { REF, stringAt, type EventColumns } from '../store/index.js';
import type { ActivityIndex } from './activity.js';
import type { ConversionInput, ConversionRef } from './engine.js';
import { f64, i32, sharedF64, sharedI32, type Column } from './columns.js';

/** A conversion as a run judges it, with what results and data quality read. */
export interface Conversion extends ConversionInput {
  value: number | null;
  source: DialectName;
}

const { name: NAME, visitorId: VISITOR, sessionId: SESSION, userDomain: DOMAIN, userId: USER } = REF;

/**
 * A workspace's conversions in columns, their ids numbered by the activity index: a million
 * conversions are a few arrays, and the object the engine reads is made for one conversion at a
 * time (and collected young).
 */
export class Conversions {
  readonly #id: Column<Float64Array>;
  readonly #occurredAt: Column<Float64Array>;
  readonly #receivedAt: Column<Float64Array>;
  readonly #value: Column<Float64Array>;
  readonly #source: Column<Int32Array>;
  readonly #visitor: Column<Int32Array>;
  readonly #session: Column<Int32Array>;
  readonly #domain: Column<Int32Array>;
  readonly #user: Column<Int32Array>;
  /** Conversion i is named #names[#name[i]]: a workspace's conversions have a few distinct names. */
  readonly #name: Column<Int32Array>;
  readonly #names: string[] = [];
  readonly #nameNumbers = new Map<string, number>();

  /** In shared memory when the index is (ActivityIndex.shared): a second thread judges over both. */
  constructor(private readonly activity: ActivityIndex) {
    const [F, I] = activity.shared ? [sharedF64, sharedI32] : [f64, i32];
    this.#id = F();
    this.#occurredAt = F();
    this.#receivedAt = F();
    this.#value = F();
    this.#source = I();
    this.#visitor = I();
    this.#session = I();
    this.#domain = I();
    this.#user = I();
    this.#name = I();
  }

  /**
   * Makes room for `n` more conversions at once (a run knows how many events it will read: at most
   * that many). Pages never reached are never touched; growing instead would copy them.
   */
  reserve(n: number): void {
    for (const c of this.#columns()) c.reserve(n);
  }

  get length(): number {
    return this.#name.length;
  }

  #nameAt(i: number): string {
    return this.#names[this.#name.get(i)]!;
  }

  /**
   * Conversion i as the engine's hot loop reads it: ids as the activity index numbers them.
   * Written into `into` when given (a run judges a million: one object reused, not a million made).
   */
  refAt(i: number, into?: ConversionRef): ConversionRef {
    const c = into ?? { id: 0, name: '', occurredAt: 0, receivedAt: 0, visitor: -1, session: -1, domain: -1, user: -1 };
    c.id = this.#id.get(i);
    c.name = this.#nameAt(i);
    c.occurredAt = this.#occurredAt.get(i);
    c.receivedAt = this.#receivedAt.get(i);
    c.visitor = this.#visitor.get(i);
    c.session = this.#session.get(i);
    c.domain = this.#domain.get(i);
    c.user = this.#user.get(i);
    return c;
  }

  at(i: number): Conversion {
    const value = this.#value.get(i);
    const name = (k: number) => (k < 0 ? null : this.activity.nameOf(k));
    return {
      id: this.#id.get(i), name: this.#nameAt(i), occurredAt: this.#occurredAt.get(i), receivedAt: this.#receivedAt.get(i),
      visitorId: name(this.#visitor.get(i)), sessionId: name(this.#session.get(i)), userDomain: name(this.#domain.get(i)), userId: name(this.#user.get(i)),
      value: Number.isNaN(value) ? null : value, source: DIALECTS[this.#source.get(i)]!,
    };
  }

  sourceAt(i: number): DialectName {
    return DIALECTS[this.#source.get(i)]!;
  }

  idAt(i: number): number {
    return this.#id.get(i);
  }

  *[Symbol.iterator](): Iterator<Conversion> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }

  /** The conversions as arrays (views, not copies) and their distinct names, for a snapshot (snapshot.ts). */
  parts(): { arrays: (Float64Array | Int32Array)[]; names: string[] } {
    return { arrays: this.#columns().map((c) => c.view()), names: [...this.#names] };
  }

  /** The conversions parts() described, numbered by `activity` (adopted as they are); throws when they do not fit together. */
  static fromParts(activity: ActivityIndex, arrays: readonly (Float64Array | Int32Array | Uint8Array)[], names: readonly string[]): Conversions {
    const out = new Conversions(activity);
    const columns = out.#columns();
    const n = arrays[0]?.length ?? 0;
    if (arrays.length !== columns.length || arrays.some((a) => a.length !== n)) throw new Error('Conversions snapshot: unexpected parts.');
    columns.forEach((c, i) => {
      const a = arrays[i]!;
      if (a.constructor !== c.view().constructor) throw new Error(`Conversions snapshot: part ${i} is a ${a.constructor.name}.`);
      (c as Column<Float64Array | Int32Array>).adopt(a as Float64Array | Int32Array);
    });
    for (const k of out.#name.view()) if (k < 0 || k >= names.length) throw new Error('Conversions snapshot: a name out of range.');
    names.forEach((name, k) => {
      out.#names.push(name);
      out.#nameNumbers.set(name, k);
    });
    return out;
  }

  #columns(): (Column<Float64Array> | Column<Int32Array>)[] {
    return [this.#id, this.#occurredAt, this.#receivedAt, this.#value, this.#source, this.#visitor, this.#session, this.#domain, this.#user, this.#name];
  }

  /**
   * Adds a chunk's conversions: the events for which isConversion(type, name, occurredAt) holds.
   * `resolve` numbers the chunk's string references (ActivityIndex.addColumns gives it).
   */
  addColumns(c: EventColumns, resolve: (ref: number) => number, isConversion: (type: EventType, name: string, occurredAt: number) => boolean): void {
    const { n, refs } = c;
    const names = new Map<number, string>();
    for (let i = 0; i < n; i++) {
      const nr = refs[NAME * n + i]!;
      if (nr === 0) continue;
      let name = names.get(nr);
      if (name === undefined) names.set(nr, (name = stringAt(c, nr)));
      if (!isConversion(EVENT_TYPES[c.type[i]!]!, name, c.occurredAt[i]!)) continue;
      this.#id.push(c.id[i]!);
      this.#occurredAt.push(c.occurredAt[i]!);
      this.#receivedAt.push(c.receivedAt[i]!);
      this.#value.push(c.value[i]!);
      this.#source.push(c.source[i]!);
      let k = this.#nameNumbers.get(name);
      if (k === undefined) {
        this.#nameNumbers.set(name, (k = this.#names.length));
        this.#names.push(name);
      }
      this.#name.push(k);
      this.#visitor.push(resolve(refs[VISITOR * n + i]!));
      this.#session.push(resolve(refs[SESSION * n + i]!));
      this.#domain.push(resolve(refs[DOMAIN * n + i]!));
      this.#user.push(resolve(refs[USER * n + i]!));
    }
  }
}
