/**
 * Hostile requests built from a valid one: a JSON tree that can hold raw literals (2^53 + 1,
 * 1e400, -0, lone surrogates) and duplicate keys, a walker that finds the JSON schema of any spot
 * of a body, and the fast-check arbitraries that mutate a valid request into a hostile one, each
 * with what the answer must be.
 */
import fc from 'fast-check';
import { gzipSync, deflateSync } from 'node:zlib';

// ---- a JSON tree that JSON.stringify cannot write --------------------------------------------

/** JSON text written as is: a number literal no JS number holds, an escaped key or string. */
export class Raw {
  constructor(readonly text: string) {}
}
/** An object as its list of members: keys may repeat, in any order. */
export class Obj {
  constructor(readonly entries: [string | Raw, Node][]) {}
}
export type Node = null | boolean | number | string | Raw | Obj | Node[];
export type Path = (string | number)[];

export function toNode(v: unknown): Node {
  if (Array.isArray(v)) return v.map(toNode);
  if (v !== null && typeof v === 'object') return new Obj(Object.entries(v).map(([k, x]) => [k, toNode(x)]));
  return v as Node;
}

export function render(n: Node): string {
  if (n instanceof Raw) return n.text;
  if (n instanceof Obj) return `{${n.entries.map(([k, v]) => `${k instanceof Raw ? k.text : JSON.stringify(k)}:${render(v)}`).join(',')}}`;
  if (Array.isArray(n)) return `[${n.map(render).join(',')}]`;
  return JSON.stringify(n);
}

/** Every spot of a tree (the root is []), with the node found there. */
export function spots(n: Node, at: Path = []): { path: Path; node: Node }[] {
  const out = [{ path: at, node: n }];
  if (n instanceof Obj) n.entries.forEach(([k, v]) => { if (typeof k === 'string') out.push(...spots(v, [...at, k])); });
  else if (Array.isArray(n)) n.forEach((v, i) => out.push(...spots(v, [...at, i])));
  return out;
}

/** A copy of the tree with the node at `path` replaced by `f(node)`. */
export function replaceAt(n: Node, path: Path, f: (old: Node) => Node): Node {
  if (path.length === 0) return f(n);
  const [head, ...rest] = path;
  if (n instanceof Obj) return new Obj(n.entries.map(([k, v]) => [k, k === head ? replaceAt(v, rest, f) : v]));
  if (Array.isArray(n)) return n.map((v, i) => (i === head ? replaceAt(v, rest, f) : v));
  return n;
}

/** The name a refusal should mention for a spot: its last key ("events[0].time" → "time"). */
export function leafName(path: Path): string | null {
  for (let i = path.length - 1; i >= 0; i--) if (typeof path[i] === 'string') return path[i] as string;
  return null;
}

/**
 * Fields that name the workspace (Optimize's customerId): the key's workspace is checked before
 * the event, so a refusal for naming another workspace is the right answer to any bad value there.
 */
const WORKSPACE_REFERENCES = new Set(['customerId']);

/** What a refusal of a bad value at `path` must mention. */
export function namesFor(path: Path): string[] {
  const leaf = leafName(path) ?? 'body';
  return WORKSPACE_REFERENCES.has(leaf) ? [leaf, 'workspace'] : [leaf];
}

// ---- the schema of a spot -----------------------------------------------------------------------

export type Schema = Record<string, any>;

function expand(s: Schema): Schema[] {
  const alts = s.anyOf ?? s.oneOf;
  if (Array.isArray(alts)) return alts.flatMap((x: Schema) => expand({ ...s, anyOf: undefined, oneOf: undefined, ...x }));
  return [s];
}

/** Every schema that can apply at `path` of a value valid for `root` (one per union member). */
export function schemasAt(root: Schema, path: Path): Schema[] {
  let current = expand(root);
  for (const step of path) {
    const next: Schema[] = [];
    for (const s of current) {
      if (typeof step === 'number') {
        if (s.items !== undefined && typeof s.items === 'object') next.push(...expand(s.items));
        continue;
      }
      if (s.properties?.[step] !== undefined) next.push(...expand(s.properties[step]));
      else if (s.patternProperties !== undefined) {
        for (const [p, sub] of Object.entries<Schema>(s.patternProperties)) if (new RegExp(p).test(step)) next.push(...expand(sub));
      } else if (s.additionalProperties !== undefined && typeof s.additionalProperties === 'object') next.push(...expand(s.additionalProperties));
    }
    current = next;
  }
  return current;
}

export type JsonType = 'string' | 'integer' | 'number' | 'boolean' | 'null' | 'object' | 'array';
const typeOfValue = (v: unknown): JsonType => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v as JsonType);

/** The JSON types a spot admits, or null when one of its schemas admits anything. */
export function allowedTypes(schemas: Schema[]): Set<JsonType> | null {
  if (schemas.length === 0) return null;
  const out = new Set<JsonType>();
  for (const s of schemas) {
    const types: unknown = s.type ?? (s.const !== undefined ? typeOfValue(s.const) : s.enum !== undefined ? undefined : undefined);
    if (s.enum !== undefined && s.type === undefined) for (const v of s.enum as unknown[]) out.add(typeOfValue(v));
    else if (types === undefined) return null;
    else for (const t of (Array.isArray(types) ? types : [types]) as JsonType[]) out.add(t);
  }
  if (out.has('number')) out.add('integer');
  return out;
}

/** A value of each JSON type, to put where the type is wrong. */
export const VALUE_OF_TYPE: Record<JsonType, Node> = {
  string: 'wrong type', integer: 7, number: 1.5, boolean: true, null: null, object: new Obj([['x', 1]]), array: [1, 'two'],
};

// ---- what a hostile request must get -----------------------------------------------------------

export interface Hostile {
  /** What was done, for the failure message. */
  what: string;
  /** The request must be refused (4xx), and the answer must mention one of `names`. */
  mustFail: boolean;
  names: string[];
  /** A batch event's own problem: a 2xx that rejects this index (naming the field) also keeps the rule. */
  batchIndex?: number;
  body: string | Buffer | undefined;
  headers: Record<string, string>;
  /** The whole query string (raw), in place of the valid request's. */
  query?: string;
  /** A replacement for one path parameter (raw URL text). */
  param?: { name: string; raw: string };
}

/** What a recipe receives: the valid request's tree and its JSON schema. */
export interface Base {
  tree: Node | undefined;
  schema: Schema | undefined;
  headers: Record<string, string>;
  params: string[];
  query: { name: string; schema: Schema }[];
  /** The valid request's query string, as name and raw (encoded) value pairs. */
  queryPairs: [string, string][];
  /** Documented query parameters the endpoint does not check (a known bug, pinned by a todo test): not aimed at by wrongQueryType. */
  uncheckedQuery: string[];
  /** Batch bodies: {"events": [...]}, each event judged on its own. */
  batch: boolean;
}
export type Recipe = (b: Base) => Hostile;

/** Names every object inherits: harmless as data, fatal as an unguarded lookup table key. */
export const PROTO_MEMBERS = ['toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', '__defineGetter__', '__lookupSetter__', 'then', 'length'];

/** A nest of `depth` arrays or objects around a scalar, as text (a tree that deep would overflow the stack). */
function nest(depth: number, arrays: boolean): Node {
  return new Raw(arrays ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"d":'.repeat(depth)}1${'}'.repeat(depth)}`);
}

const batchIndexOf = (b: Base, path: Path): number | undefined => (b.batch && path[0] === 'events' && typeof path[1] === 'number' ? path[1] : undefined);

/** Spots of the valid body, chosen by index (stable across runs: the body's shape does not change). */
const pick = <T>(list: readonly T[], i: number): T => list[i % list.length]!;

function objectSpots(b: Base) {
  return b.tree === undefined ? [] : spots(b.tree).filter((s) => s.node instanceof Obj);
}
function leafSpots(b: Base) {
  return b.tree === undefined ? [] : spots(b.tree).filter((s) => s.path.length > 0);
}
/** The valid query string with `name` set to the raw `value` (or added), or with `extra` appended. */
function queryWith(b: Base, name: string | null, value: string, extra = ''): string {
  const pairs = b.queryPairs.filter(([k]) => k !== name).map(([k, v]) => `${k}=${v}`);
  if (name !== null) pairs.push(`${name}=${value}`);
  if (extra !== '') pairs.push(extra);
  return pairs.join('&');
}

/** Query parameter names to aim at: the documented ones and those the valid request sends. */
const queryNames = (b: Base): string[] => [...new Set([...b.query.map((q) => q.name), ...b.queryPairs.map(([k]) => k)])];

const json = (_b: Base, tree: Node | undefined) => (tree === undefined ? undefined : render(tree));
const insertKey = (tree: Node, path: Path, pos: number, key: string | Raw, value: Node) =>
  replaceAt(tree, path, (o) => {
    const entries = [...(o as Obj).entries];
    entries.splice(pos % (entries.length + 1), 0, [key, value]);
    return new Obj(entries);
  });

const pollution: Node[] = [new Obj([['polluted', true]]), new Obj([['isAdmin', true], ['toString', 'x']]), 'polluted', 1, null, [new Obj([['polluted', true]])]];

/**
 * Keys that reach a prototype: `__proto__`, and `constructor` holding `prototype` (escaped too),
 * anywhere: refused, naming the key. `constructor` or `prototype` holding anything else is data
 * ("constructor": "Acme Ltd") and must merely do no harm.
 */
const FORBIDDEN = [
  { key: '__proto__', value: null, mustFail: true },
  { key: 'constructor', value: new Obj([['prototype', new Obj([['polluted', true]])]]), mustFail: true },
  { key: 'constructor', value: new Obj([['prototype', 'x']]), mustFail: true },
  { key: 'constructor', value: null, mustFail: false },
  { key: 'prototype', value: null, mustFail: false },
] as const;
export const forbiddenKey = fc.record({ at: fc.nat(), pos: fc.nat(), which: fc.constantFrom(...FORBIDDEN), escaped: fc.boolean(), value: fc.constantFrom(...pollution), wrap: fc.nat({ max: 3 }) })
  .map(({ at, pos, which, escaped, value: anyValue, wrap }): Recipe => (b) => {
    const objs = objectSpots(b);
    const { key, mustFail } = which;
    if (b.tree === undefined || objs.length === 0) return forbiddenQuery(key)(b);
    const value = which.value ?? anyValue;
    const keyNode = escaped ? new Raw(JSON.stringify(key).replace(/^"(.)/, (_m, c: string) => `"\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)) : key;
    let inner: Node = new Obj([[keyNode, value]]);
    for (let i = 0; i < wrap; i++) inner = i % 2 === 0 ? new Obj([['wrap', inner]]) : [inner];
    const spot = pick(objs, at);
    const tree = wrap === 0 ? insertKey(b.tree, spot.path, pos, keyNode, value) : insertKey(b.tree, spot.path, pos, 'nested', inner);
    return { what: `${key}${escaped ? ' (escaped)' : ''}: ${render(value)} ${wrap} levels under ${spot.path.join('.') || 'the root'}`, mustFail, names: [key], body: json(b, tree), headers: b.headers };
  });

function forbiddenQuery(key: string): Recipe {
  return (b) => ({ what: `${key} in the query string`, mustFail: false, names: [], body: json(b, b.tree), headers: b.headers, query: queryWith(b, null, '', `${key}[polluted]=1&${key}=2&${key}.polluted=3`) });
}

/** Keys every object inherits (toString, hasOwnProperty…), anywhere: never a 5xx. */
export const protoMemberKey = fc.record({ at: fc.nat(), pos: fc.nat(), key: fc.constantFrom(...PROTO_MEMBERS), value: fc.constantFrom<Node>('x', 1, true, null, new Obj([['a', 'b']]), ['x']) })
  .map(({ at, pos, key, value }): Recipe => (b) => {
    const objs = objectSpots(b);
    if (b.tree === undefined || objs.length === 0) return { what: `${key} in the query`, mustFail: false, names: [], body: undefined, headers: b.headers, query: queryWith(b, null, '', `${key}=1`) };
    const spot = pick(objs, at);
    return { what: `${key}=${render(value)} under ${spot.path.join('.') || 'the root'}`, mustFail: false, names: [], body: json(b, insertKey(b.tree, spot.path, pos, key, value)), headers: b.headers };
  });

/** Nesting deeper than the parser allows, anywhere: refused. */
export const deepNesting = fc.record({ at: fc.nat(), extra: fc.oneof(fc.integer({ min: 33, max: 40 }), fc.constantFrom(1000, 20_000)), arrays: fc.boolean() })
  .map(({ at, extra, arrays }): Recipe => (b) => {
    const leaves = leafSpots(b);
    if (b.tree === undefined || leaves.length === 0) return { what: `${extra}-deep body`, mustFail: false, names: [], body: undefined, headers: b.headers };
    const spot = pick(leaves, at);
    return { what: `${extra} levels of ${arrays ? 'arrays' : 'objects'} at ${spot.path.join('.')}`, mustFail: true, names: ['nest'], body: json(b, replaceAt(b.tree, spot.path, () => nest(extra, arrays))), headers: b.headers };
  });

/** A value of a type its schema does not admit, at any spot the schema types: refused naming the field. */
export const wrongType = fc.record({ at: fc.nat(), choice: fc.nat() }).map(({ at, choice }): Recipe => (b) => {
  if (b.tree === undefined || b.schema === undefined) return wrongQueryType(at, choice)(b);
  const typed = leafSpots(b).map((s) => ({ ...s, types: allowedTypes(schemasAt(b.schema!, s.path)) })).filter((s) => s.types !== null);
  if (typed.length === 0) return wrongQueryType(at, choice)(b);
  const spot = pick(typed, at);
  const wrong = (Object.keys(VALUE_OF_TYPE) as JsonType[]).filter((t) => !spot.types!.has(t));
  const type = pick(wrong, choice);
  const names = namesFor(spot.path);
  return { what: `${type} at ${spot.path.join('.')} (admits ${[...spot.types!].join(', ')})`, mustFail: true, names, batchIndex: batchIndexOf(b, spot.path), body: json(b, replaceAt(b.tree, spot.path, () => VALUE_OF_TYPE[type])), headers: b.headers };
});

const NOT_OF_TYPE: Partial<Record<JsonType, true>> = { integer: true, number: true, boolean: true };

function wrongQueryType(at: number, choice: number): Recipe {
  return (b) => {
    const typed = b.query.filter((q) => !b.uncheckedQuery.includes(q.name)).map((q) => {
      const schemas = schemasAt(q.schema, []);
      // Every member of the union must refuse the bad values: an enum, a typed number or boolean, a string with a pattern or format.
      const bad = schemas.every((s) => s.enum !== undefined || s.pattern !== undefined || s.format !== undefined || NOT_OF_TYPE[s.type as JsonType] !== undefined);
      return { ...q, bad };
    }).filter((q) => q.bad);
    if (typed.length === 0) return { what: 'no typed query field', mustFail: false, names: [], body: json(b, b.tree), headers: b.headers, query: queryWith(b, null, '', 'x=%ff%fe') };
    const q = pick(typed, at);
    const value = pick(['bogus!', 'abc', '1.5x', '1e400', 'maybe', '%ff'], choice);
    return { what: `query ${q.name}=${value}`, mustFail: true, names: [q.name], body: json(b, b.tree), headers: b.headers, query: queryWith(b, q.name, value === '%ff' ? value : encodeURIComponent(value)) };
  };
}

/** A string longer than its schema's maxLength: refused naming the field. */
export const overLength = fc.record({ at: fc.nat(), over: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constantFrom(10_000, 200_000)) }).map(({ at, over }): Recipe => (b) => {
  if (b.tree === undefined || b.schema === undefined) return { what: 'no body', mustFail: false, names: [], body: undefined, headers: b.headers };
  const bounded = leafSpots(b).filter((s) => typeof s.node === 'string').map((s) => {
    const strings = schemasAt(b.schema!, s.path).filter((x) => x.type === 'string');
    const max = strings.length > 0 && strings.every((x) => typeof x.maxLength === 'number' && x.pattern === undefined) ? Math.max(...strings.map((x) => x.maxLength as number)) : null;
    return { ...s, max };
  }).filter((s) => s.max !== null);
  if (bounded.length === 0) return { what: 'no bounded string', mustFail: false, names: [], body: json(b, b.tree), headers: b.headers };
  const spot = pick(bounded, at);
  const length = spot.max! + over;
  return { what: `${length}-character string at ${spot.path.join('.')} (max ${spot.max})`, mustFail: true, names: namesFor(spot.path), batchIndex: batchIndexOf(b, spot.path), body: json(b, replaceAt(b.tree, spot.path, () => 'x'.repeat(length))), headers: b.headers };
});

/** Numbers and strings at the edges: huge, tiny, -0, beyond 2^53, not finite, long digit runs, odd Unicode. Never a 5xx. */
export const ODD_VALUES: Node[] = [
  1e308, -1e308, new Raw('-0'), new Raw('9007199254740993'), new Raw('-9007199254740993'), new Raw('1e400'), new Raw('-1e400'), 5e-324, 0.1, -1, 0,
  new Raw('123456789012345678901234567890123456789'), new Raw('1E+2'), 'NaN', 'Infinity', '-0', '1e308', '9'.repeat(400), '', ' ', '\u0000',
  new Raw('"\\ud800"'), new Raw('"\\udfff\\ud800"'), '\u202e\u0000\uffff', '👩‍👩‍👧‍👦'.repeat(50), 'x'.repeat(100_000), true, false, null, new Obj([]), [],
  '2026-01-15T12:00:00Z', '1768478400000', '-1768478400000', '2026-13-45T99:99:99Z',
];
export const oddValue = fc.record({ at: fc.nat(), value: fc.constantFrom(...ODD_VALUES) }).map(({ at, value }): Recipe => (b) => {
  const leaves = leafSpots(b);
  if (b.tree === undefined || leaves.length === 0) return oddQuery(at, value)(b);
  const spot = pick(leaves, at);
  return { what: `${render(value).slice(0, 60)} at ${spot.path.join('.')}`, mustFail: false, names: [], body: json(b, replaceAt(b.tree, spot.path, () => value)), headers: b.headers };
});

function oddQuery(at: number, value: Node): Recipe {
  return (b) => {
    const text = typeof value === 'string' ? value : value instanceof Raw ? value.text.replace(/^"|"$/g, '') : render(value);
    const names = queryNames(b);
    const name = names.length > 0 ? pick(names, at) : 'x';
    return { what: `query ${name}=${text.slice(0, 60)}`, mustFail: false, names: [], body: json(b, b.tree), headers: b.headers, query: queryWith(b, name, encodeURIComponent(text)) };
  };
}

/** A key given twice (the second with another value). Never a 5xx. */
export const duplicateKey = fc.record({ at: fc.nat(), entry: fc.nat(), value: fc.constantFrom(...ODD_VALUES.slice(0, 12)), before: fc.boolean() })
  .map(({ at, entry, value, before }): Recipe => (b) => {
    const objs = objectSpots(b).filter((s) => (s.node as Obj).entries.length > 0);
    if (b.tree === undefined || objs.length === 0) {
      return queryTwice(b, at);
    }
    const spot = pick(objs, at);
    const [key] = pick((spot.node as Obj).entries, entry);
    const tree = replaceAt(b.tree, spot.path, (o) => {
      const entries = [...(o as Obj).entries];
      if (before) entries.unshift([key, value]);
      else entries.push([key, value]);
      return new Obj(entries);
    });
    return { what: `${String(key instanceof Raw ? key.text : key)} twice under ${spot.path.join('.') || 'the root'}`, mustFail: false, names: [], body: json(b, tree), headers: b.headers };
  });

/** A query parameter given twice, or in bracket forms some parsers read as arrays or objects. */
function queryTwice(b: Base, at: number, form = 0): Hostile {
  const names = queryNames(b);
  const name = names.length > 0 ? pick(names, at) : 'key';
  const value = b.queryPairs.find(([k]) => k === name)?.[1] ?? '1';
  const extra = pick([`${name}=${value}`, `${name}=other`, `${name}[]=${value}`, `${name}[0]=${value}`, `${name}[x]=${value}`], form);
  return { what: `query ${extra} besides ${name}=${value}`, mustFail: false, names: [], body: b.tree === undefined ? undefined : render(b.tree), headers: b.headers, query: queryWith(b, name, value, extra) };
}

/** The query string of a request that also has a body: repeated, bracketed, odd or wrongly typed parameters. */
export const queryOfBodyRequest = fc.record({ at: fc.nat(), form: fc.nat(), value: fc.constantFrom(...ODD_VALUES.filter((v) => typeof v === 'string' && v.length < 1000)) })
  .map(({ at, form, value }): Recipe => (b) => (form % 3 === 0 ? oddQuery(at, value)(b) : form % 3 === 1 ? wrongQueryType(at, form)(b) : queryTwice(b, at, form)));

/** Bytes that are not UTF-8, inside a string or at the end: refused. */
const BAD_BYTES = [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xf4, 0x90, 0x80, 0x80], [0xfe, 0xfe, 0xff, 0xff]];
export const invalidUtf8 = fc.record({ bytes: fc.constantFrom(...BAD_BYTES), at: fc.nat() }).map(({ bytes, at }): Recipe => (b) => {
  const text = b.tree === undefined ? '{}' : render(b.tree);
  const quotes = [...text.matchAll(/"/g)].map((m) => m.index!);
  const cut = quotes.length === 0 ? text.length : pick(quotes, at * 2) + 1;
  return { what: `bytes ${bytes.map((x) => x.toString(16)).join(' ')} at ${cut}`, mustFail: true, names: ['UTF-8'], body: Buffer.concat([Buffer.from(text.slice(0, cut)), Buffer.from(bytes), Buffer.from(text.slice(cut))]), headers: { ...b.headers, 'content-type': 'application/json' } };
});

/** Content types: the JSON family and text/plain are read as JSON; anything else is 415. */
const JSONISH = ['application/json; charset=utf-8', 'APPLICATION/JSON', 'application/vnd.api+json', 'application/json;charset=utf-16', 'text/plain', 'text/plain;charset=UTF-8'];
const NOT_JSON = ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/xml', 'application/octet-stream', 'application/jsonx', 'json', 'text/html', 'image/png'];
export const contentType = fc.oneof(fc.constantFrom(...JSONISH).map((t) => ({ t, ok: true })), fc.constantFrom(...NOT_JSON, null).map((t) => ({ t, ok: false })))
  .map(({ t, ok }): Recipe => (b) => {
    const { 'content-type': _ct, ...headers } = b.headers;
    const body = b.tree === undefined ? '{}' : render(b.tree);
    return { what: `Content-Type: ${String(t)}`, mustFail: !ok, names: ['Content-Type', 'JSON'], body, headers: t === null ? headers : { ...headers, 'content-type': t } };
  });

const bombs = new Map<string, Buffer>();
/** 20 MB of spaces, compressed to about 20 KB (made once). */
function bombOf(kind: 'gzip' | 'deflate'): Buffer {
  let b = bombs.get(kind);
  if (b === undefined) {
    const plain = Buffer.alloc(20 * 1_048_576, 0x20);
    b = kind === 'gzip' ? gzipSync(plain, { level: 9 }) : deflateSync(plain, { level: 9 });
    bombs.set(kind, b);
  }
  return b;
}

/** A compressed body (or one only labelled so): never inflated, refused as 415 naming Content-Encoding. */
export const contentEncoding = fc.record({ enc: fc.constantFrom('gzip', 'deflate', 'br', 'compress', 'gzip, gzip', 'GZIP', 'x-gzip', 'identity'), really: fc.boolean(), bomb: fc.boolean() })
  .map(({ enc, really, bomb }): Recipe => (b) => {
    const text = b.tree === undefined ? '{}' : render(b.tree);
    const zipped = bomb ? bombOf(enc.includes('deflate') ? 'deflate' : 'gzip') : enc.includes('deflate') ? deflateSync(text) : gzipSync(text);
    const body = really && enc !== 'identity' ? zipped : Buffer.from(text);
    return { what: `Content-Encoding: ${enc}${really ? (bomb ? ' (a 20 MB bomb)' : ' (compressed)') : ' (not compressed)'}`, mustFail: enc !== 'identity', names: ['Content-Encoding'], body, headers: { ...b.headers, 'content-type': 'application/json', 'content-encoding': enc } };
  });

/** Whole bodies that are not JSON, or JSON of the wrong shape. */
const NOT_JSON_TEXT = ['', ' ', '{', '{"a":}', '{}garbage', "{'a':1}", 'NaN', '[1,]', '{"a":1,}', '\u0000', '{"a":"\u0001"}', 'nul', 'undefined'];
export const wholeBody = fc.oneof(
  fc.constantFrom(...NOT_JSON_TEXT).map((text) => ({ text, mustFail: true })),
  fc.oneof(fc.constantFrom('null', '[]', '"x"', '0', 'true', '{}', '\ufeff{}', '[{}]', '{"events":[]}', '{"events":{}}', '{"events":null}'), fc.json()).map((text) => ({ text, mustFail: false })),
).map(({ text, mustFail }): Recipe => (b) => ({ what: `the body ${JSON.stringify(text.slice(0, 60))}`, mustFail, names: ['JSON', 'body', 'empty', 'required'], body: text, headers: { ...b.headers, 'content-type': 'application/json' } }));

/** A path parameter replaced by something hostile (raw URL text). Never a 5xx. */
const HOSTILE_PARAMS = ['__proto__', 'constructor', 'prototype', 'toString', '%ff', '%', '%%', '%zz', '..', '%2e%2e', '%2F', 'a'.repeat(300), '9007199254740993', '1e308', '-0', '0', '-1', '1.5',
  '%E2%80%AE', '%F0%9F%92%A9', '%00', '%20', 'NaN', 'Infinity', "'%20OR%201=1--", '%22%3E%3Cscript%3E'];
export const hostileParam = fc.record({ at: fc.nat(), value: fc.constantFrom(...HOSTILE_PARAMS) }).map(({ at, value }): Recipe => (b) => {
  if (b.params.length === 0) return { what: `a query value ${value}`, mustFail: false, names: [], body: json(b, b.tree), headers: b.headers, query: queryWith(b, null, '', `x=${value}`) };
  const name = pick(b.params, at);
  return { what: `:${name} = ${value.slice(0, 40)}`, mustFail: false, names: [], body: json(b, b.tree), headers: b.headers, param: { name, raw: value } };
});

/** Every recipe, weighted towards the ones that reach deep into a body (for endpoints that take one). */
export const bodyHostile: fc.Arbitrary<Recipe> = fc.oneof(
  { arbitrary: forbiddenKey, weight: 4 }, { arbitrary: protoMemberKey, weight: 2 }, { arbitrary: deepNesting, weight: 2 },
  { arbitrary: wrongType, weight: 5 }, { arbitrary: overLength, weight: 3 }, { arbitrary: oddValue, weight: 5 },
  { arbitrary: duplicateKey, weight: 2 }, { arbitrary: invalidUtf8, weight: 2 }, { arbitrary: contentType, weight: 2 },
  { arbitrary: contentEncoding, weight: 1 }, { arbitrary: wholeBody, weight: 2 }, { arbitrary: hostileParam, weight: 2 },
  { arbitrary: queryOfBodyRequest, weight: 2 },
);

/** The recipes for an endpoint without a body: its query string and path parameters. */
export const queryHostile: fc.Arbitrary<Recipe> = fc.oneof(
  { arbitrary: forbiddenKey, weight: 3 }, { arbitrary: protoMemberKey, weight: 1 }, { arbitrary: wrongType, weight: 4 },
  { arbitrary: oddValue, weight: 4 }, { arbitrary: duplicateKey, weight: 2 }, { arbitrary: hostileParam, weight: 3 },
);
