import type { IncomingHttpHeaders } from 'node:http';
import type { TSchema } from '@sinclair/typebox';
import type { DialectName, IngestError } from '../core/index.js';
import type { IngestOutcome, IngestRequest } from '../ingest/index.js';

/** What the HTTP layer hands a dialect: the parsed request, nothing framework-specific. */
export interface HttpInput {
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; undefined when it could not be read (see bodyError). */
  body: unknown;
  /** Why the body could not be read, with the raw text to quarantine. */
  bodyError: { error: IngestError; raw: string } | null;
  ip: string;
}

export interface HttpAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface DialectRoute {
  url: string;
  summary: string;
  /** The body's schema, for /openapi.json; the dialect's checker validates each event with the same schema. */
  body: TSchema;
  /** The 200 answer's schema, for /openapi.json. */
  response: TSchema;
  /** Accept JSON with unquoted keys (the Optimize guide writes its curl examples that way). */
  relaxedJson?: boolean;
  read(input: HttpInput): DialectRequest;
  respond(outcome: IngestOutcome, input: HttpInput): HttpAnswer;
}

/** What a dialect reads from a request; the HTTP layer adds the rest. */
export type DialectRequest = Omit<IngestRequest, 'dryRun' | 'clientIp' | 'userAgent' | 'quarantine'>;

/** A vendor's request dialect: the only place that knows its field names and response shapes. */
export interface Dialect {
  name: DialectName;
  description: string;
  routes: DialectRoute[];
  /** The dialect's answer to a refusal that happens before its route runs (413, 415). */
  error(error: IngestError): HttpAnswer;
}

/** The bearer token of an Authorization header with the given scheme, or null. */
export function credentialFrom(headers: IncomingHttpHeaders, scheme: string): string | null {
  const h = headers.authorization;
  if (typeof h !== 'string') return null;
  const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(h);
  if (m === null || m[1]!.toLowerCase() !== scheme.toLowerCase()) return null;
  return m[2]!;
}

export function headerValue(headers: IncomingHttpHeaders, name: string): string | null {
  const v = headers[name];
  return typeof v === 'string' ? v : null;
}
