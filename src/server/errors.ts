import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CATALOG, ServiceError, ingestError, type ErrorCode, type IngestError } from '../core/index.js';
import type { Dialect } from '../dialects/index.js';

/** The admin API's error shape. */
export function adminError(e: IngestError): { status: number; body: unknown } {
  return {
    status: ERROR_CATALOG[e.code].status,
    body: { error: { code: e.code, message: e.message, ...(e.field !== undefined ? { field: e.field } : {}) } },
  };
}

/**
 * SQLite's result codes for a store that cannot write at the moment — disk full, I/O error,
 * locked, out of file handles or memory, read-only — as better-sqlite3 reports them (extended
 * codes included): the client should retry (503), unlike a bug (500).
 */
const STORE_FAULT = /^SQLITE_(FULL|IOERR|BUSY|LOCKED|CANTOPEN|NOMEM|READONLY|PROTOCOL)(_|$)/;

/** Translates whatever was thrown into a catalog error. */
export function toIngestError(err: FastifyError & { cl?: IngestError }, maxBodyBytes = 1_048_576): IngestError {
  if (err.cl !== undefined) return err.cl;
  if (err instanceof ServiceError) return ingestError(err.code, err.message);
  if (typeof err.code === 'string' && STORE_FAULT.test(err.code)) {
    return ingestError('store_unavailable', 'The store cannot write at the moment (its disk is full, failing or locked); retry in a moment.');
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return ingestError('body_too_large', `The request body is larger than the ${maxBodyBytes >= 1_048_576 && maxBodyBytes % 1_048_576 === 0 ? `${maxBodyBytes / 1_048_576} MB` : `${maxBodyBytes} byte`} limit (maxBodyBytes); send fewer events per request.`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return ingestError('unsupported_media_type', 'Send the body as JSON with Content-Type: application/json.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return ingestError('invalid_json', 'The body is empty; send a JSON object.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return ingestError('invalid_body', 'The Content-Length header does not match the body.');
    case 'FST_ERR_VALIDATION': {
      const v = err.validation?.[0];
      const where = `${err.validationContext ?? 'body'}${v?.instancePath ? v.instancePath.replace(/\//g, '.') : ''}`;
      const field = v?.keyword === 'required' ? `${where}.${String((v.params as { missingProperty?: string }).missingProperty)}` : where;
      const message = v?.keyword === 'required' ? `${field} is required.`
        : v?.keyword === 'additionalProperties' ? `${where}.${String((v.params as { additionalProperty?: string }).additionalProperty)} is not a known field.`
          : `${where} ${v?.message ?? 'is invalid'}.`;
      return ingestError('field_invalid', message, { field });
    }
    default:
      break;
  }
  const status = err.statusCode ?? 500;
  if (status === 404) return ingestError('not_found', err.message);
  if (status >= 400 && status < 500) return ingestError('invalid_body', err.message);
  return ingestError('internal_error', 'An unexpected error happened; it was logged. Retry, and report it if it persists.');
}

/** One error handler: dialect routes answer in their dialect's shape, everything else in the admin shape. */
export function installErrorHandler(app: FastifyInstance, dialectOf: (req: FastifyRequest) => Dialect | undefined, maxBodyBytes: number): void {
  app.setErrorHandler((err: FastifyError & { cl?: IngestError }, req: FastifyRequest, reply: FastifyReply) => {
    const e = toIngestError(err, maxBodyBytes);
    if (e.code === 'internal_error') req.log.error({ err }, 'unhandled error');
    else if (e.code === 'store_unavailable') req.log.warn({ err: err.cause ?? err }, 'store unavailable');
    const dialect = dialectOf(req);
    const answer = dialect !== undefined ? dialect.error(e) : adminError(e);
    void reply.code(answer.status).send(answer.body);
  });
  // A hook rather than the handler above: routes with their own error handler (/collect) are
  // answered with it too. onError runs before whichever handler answers.
  app.addHook('onError', async (_req, reply, err: FastifyError & { cl?: IngestError }) => {
    if (toIngestError(err, maxBodyBytes).code === 'store_unavailable') void reply.header('Retry-After', '1');
  });
  app.setNotFoundHandler((req, reply) => {
    const answer = adminError(ingestError('not_found', `No endpoint ${req.method} ${req.url.split('?')[0]}; see /docs for the API.`));
    void reply.code(404).send(answer.body);
  });
}

export function isCatalogCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CATALOG, code);
}
