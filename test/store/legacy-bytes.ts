/**
 * Outcome and restatement chunks as builds before words wrote them (BINARY, outcome-bytes.ts):
 * every string `length utf8`. Written here from the format's description, not by the code under
 * test, so that tests can give the store what an earlier build left.
 */
import { ByteWriter } from '../../src/core/bytes.js';
import { BINARY } from '../../src/store/outcome-bytes.js';
import type { OutcomeSummary, OutcomeValues } from '../../src/store/index.js';

/** One outcome's string table, written `length utf8` as it grows. */
class Table {
  readonly #strings: string[] = [];
  #written = 0;

  ref(x: string): number {
    const k = this.#strings.indexOf(x);
    return k >= 0 ? k : this.#strings.push(x) - 1;
  }

  flush(out: ByteWriter): void {
    out.varint(this.#strings.length - this.#written);
    for (; this.#written < this.#strings.length; this.#written++) {
      const b = Buffer.from(this.#strings[this.#written]!, 'utf8');
      out.varint(b.length).raw(b);
    }
  }
}

function summary(out: ByteWriter, s: OutcomeSummary, table = new Table()): Table {
  const reason = s.reason === null ? 0 : table.ref(s.reason) + 1;
  const refs = s.attributions.map((a) => [table.ref(a.optimization), table.ref(a.variation), table.ref(a.visitorId)] as const);
  table.flush(out);
  out.varint(reason).varint(s.attributions.length);
  s.attributions.forEach((a, k) => out.varint(refs[k]![0]).varint(refs[k]![1]).f64(a.viewedAt).varint(refs[k]![2]));
  return table;
}

/** A row of attribution_outcome_chunks as an earlier build wrote it. */
export function legacyChunk(list: OutcomeValues[], runId: number): Buffer {
  const out = new ByteWriter(16).u8(BINARY).varint(list.length);
  for (const o of list) {
    const body = new ByteWriter(64);
    body.varint(o.goalId === null ? 0 : o.goalId + 1);
    const table = summary(body, o);
    const visitors = o.visitors.map((v) => table.ref(v));
    const d = o.deciding === null ? null : [table.ref(o.deciding.optimization), table.ref(o.deciding.variation), table.ref(o.deciding.visitorId)];
    table.flush(body);
    body.varint(visitors.length);
    for (const v of visitors) body.varint(v);
    if (d === null || o.deciding === null) body.u8(0);
    else body.u8(1).varint(d[0]!).varint(d[1]!).f64(o.deciding.viewedAt).varint(d[2]!).f64(o.deciding.sessionStart).f64(o.deciding.sessionEnd);
    out.varint(o.eventId).varint(runId).varint(body.length).raw(body.bytes());
  }
  return Buffer.from(out.bytes());
}

/** A row of attribution_change_chunks as an earlier build wrote it: every after copied. */
export function legacyChanges(changes: { eventId: number; before: OutcomeSummary | null; after: OutcomeSummary | null }[]): Buffer {
  const out = new ByteWriter(16).u8(BINARY).varint(changes.length);
  for (const c of changes) {
    out.varint(c.eventId);
    for (const side of [c.before, c.after]) {
      if (side === null) out.u8(0);
      else summary(out.u8(1), side);
    }
  }
  return Buffer.from(out.bytes());
}
