import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import JSON5 from 'json5';
import sjson from 'secure-json-parse';
import { ingestError, type IngestError } from '../core/index.js';
import { redactText } from '../ingest/index.js';

/** Deeper than any body we define; a 10,000-deep array is refused before it is parsed. */
export const MAX_DEPTH = 32;

/** A body that could not be read, carried to the route so the refusal is answered in its dialect and quarantined. */
export class UnreadableBody {
  constructor(readonly error: IngestError, readonly raw: string) {}
}

/** Depth of nesting of JSON text, counted without parsing (brackets inside strings are skipped). */
export function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 125 || c === 93) depth--;
  }
  return max;
}

/** Finds a __proto__ or constructor.prototype key anywhere in a parsed value (JSON5's output). */
function hasForbiddenKey(value: unknown, depth = 0): boolean {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return false;
  for (const [k, v] of Object.entries(value)) {
    if (k === '__proto__') return true;
    if (k === 'constructor' && v !== null && typeof v === 'object' && 'prototype' in v) return true;
    if (hasForbiddenKey(v, depth + 1)) return true;
  }
  return false;
}

/**
 * Reads a JSON body strictly: valid UTF-8, bounded nesting, no prototype-polluting keys. Where
 * `relaxed` (the Optimize guide's curl examples write keys unquoted), JSON5 is tried when strict
 * JSON fails. Returns the value or an UnreadableBody saying why.
 */
export function readJson(buf: Buffer, relaxed: boolean): unknown {
  if (!isUtf8(buf)) return new UnreadableBody(ingestError('invalid_utf8', 'The body is not valid UTF-8 text.'), buf.toString('latin1').slice(0, 4096));
  const text = buf.toString('utf8');
  if (text.trim() === '') return new UnreadableBody(ingestError('invalid_json', 'The body is empty; send a JSON object.'), '');
  // Nesting deeper than MAX_DEPTH needs more than 2 × MAX_DEPTH brackets: a short body cannot.
  if (text.length > 2 * MAX_DEPTH && nestingDepth(text, MAX_DEPTH) > MAX_DEPTH) {
    return new UnreadableBody(ingestError('nesting_too_deep', `The body nests objects or arrays more than ${MAX_DEPTH} levels deep.`), text.slice(0, 4096));
  }
  try {
    return sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // secure-json-parse reports a forbidden key as a SyntaxError with this message.
    if (message.startsWith('Object contains forbidden prototype property') || (/prototype|constructor/i.test(message) && !(err instanceof SyntaxError))) {
      return new UnreadableBody(ingestError('forbidden_key', 'The body uses "__proto__" or "constructor.prototype" as a key, which is not allowed.'), text);
    }
    if (relaxed) {
      try {
        const value: unknown = JSON5.parse(text);
        if (hasForbiddenKey(value)) return new UnreadableBody(ingestError('forbidden_key', 'The body uses "__proto__" or "constructor.prototype" as a key, which is not allowed.'), text);
        return value;
      } catch {
        // fall through to the strict parser's message
      }
    }
    // V8's message quotes the text around the error, which may hold an email or a phone number.
    return new UnreadableBody(ingestError('invalid_json', `The body is not valid JSON: ${redactText(message.replace(/^Unexpected/, 'unexpected')).slice(0, 200)}.`), text);
  }
}

export interface RouteFlags {
  /** A dialect route: body problems go to the route (its own error shape, and the quarantine). */
  ingest?: boolean;
  relaxedJson?: boolean;
}

function flagsOf(req: FastifyRequest): RouteFlags {
  return (req.routeOptions.config as RouteFlags | undefined) ?? {};
}

/**
 * A body sent compressed (or labelled so) is refused, never inflated: a few KB of gzip can hold
 * gigabytes, and no client of ours compresses (RFC 9110 §8.4: 415 for a coding the server does not accept).
 */
function encodingRefusal(req: FastifyRequest): Error | null {
  const coding = req.headers['content-encoding'];
  if (coding === undefined || /^\s*(identity)?\s*$/i.test(coding)) return null;
  const message = `Content-Encoding "${coding.slice(0, 40)}" is not accepted; send the body uncompressed (no Content-Encoding header).`;
  return Object.assign(new Error(message), { statusCode: 415, code: 'unsupported_media_type', cl: ingestError('unsupported_media_type', message) });
}

/** Replaces Fastify's JSON parser with readJson for application/json and text/plain (sendBeacon). */
export function installBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  const parse = (req: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void): void => {
    const refused = encodingRefusal(req);
    if (refused !== null) {
      done(refused);
      return;
    }
    const flags = flagsOf(req);
    const value = readJson(body, flags.relaxedJson === true);
    if (value instanceof UnreadableBody && flags.ingest !== true) {
      const err = Object.assign(new Error(value.error.message), { statusCode: 400, code: value.error.code, cl: value.error });
      done(err);
      return;
    }
    done(null, value);
  };
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'buffer' }, parse);
  app.addContentTypeParser(/^application\/[a-z.+-]*json$/, { parseAs: 'buffer' }, parse);
}
