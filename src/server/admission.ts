import { pipeline, Transform, type TransformCallback } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import client from 'prom-client';
import { ingestError } from '../core/index.js';
import { InflightBytes } from './admission-budget.js';
import type { Metrics } from './metrics.js';

/** What a refused client is told to wait. */
export const OVERLOAD_RETRY_AFTER_SECONDS = 1;

/**
 * How long an upload keeps the whole Content-Length it announced set aside in memory. A body
 * still arriving after that holds only the bytes it has sent: a client trickling a large body
 * cannot keep a share of the budget it does not use (the request timeout cuts it later).
 */
const RESERVATION_GRACE_MS = 1000;

/** One admitted ingestion request's share of the budget. */
interface Hold {
  /** Bytes taken from the budget: the announced length, or what arrived once the grace is over. */
  bytes: number;
  received: number;
  bodyDone: boolean;
  /** The budget ran out while its body was arriving: the rest is read and dropped, then it is refused. */
  refused: boolean;
  released: boolean;
  timer: NodeJS.Timeout | null;
}

function overloaded(reply: FastifyReply): Error {
  void reply.header('Retry-After', String(OVERLOAD_RETRY_AFTER_SECONDS));
  const message = `The service has as much work in progress as it can answer in time; nothing was stored. Retry after ${OVERLOAD_RETRY_AFTER_SECONDS} s.`;
  return Object.assign(new Error(message), { statusCode: 503, cl: ingestError('overloaded', message) });
}

const isIngest = (req: FastifyRequest): boolean => (req.routeOptions.config as { ingest?: boolean } | undefined)?.ingest === true;

/**
 * Admission control for the ingestion routes (those flagged `ingest`), so that overload is
 * answered with 503 and Retry-After instead of growing memory and waits: the bodies these
 * requests hold, from their headers until their answer is sent (reading, parsing, waiting for
 * the commit), never pass `maxInflightBytes`, and new ones are admitted only while the service
 * keeps up with about `targetLatencyMs` of work (see InflightBytes).
 *
 * A request that does not fit is refused before its body is read (the body is then read and
 * dropped, which keeps the connection). One that fits has its Content-Length set aside, so it is
 * not refused half-way. A body without a Content-Length, or one still arriving after
 * RESERVATION_GRACE_MS, takes memory as its bytes come; if they stop fitting, the rest of the
 * body is read and dropped and the request refused the same way.
 *
 * The bytes are given back once the answer is on its way (the events are written or refused), or
 * when the connection closes before the body was complete (nothing reached a handler).
 */
export function installAdmission(app: FastifyInstance, opts: { maxInflightBytes: number; targetLatencyMs: number; maxBodyBytes: number; metrics: Metrics }): InflightBytes {
  const budget = new InflightBytes(opts.maxInflightBytes, opts.targetLatencyMs, opts.maxBodyBytes);
  const holds = new WeakMap<FastifyRequest, Hold>();
  const release = (hold: Hold): void => {
    if (hold.timer !== null) clearTimeout(hold.timer);
    if (hold.released) return;
    hold.released = true;
    budget.give(hold.bytes);
    budget.done(hold.received);
    hold.bytes = 0;
  };
  const shrink = (hold: Hold): void => {
    hold.timer = null;
    if (hold.released || hold.bodyDone || hold.bytes <= hold.received) return;
    budget.give(hold.bytes - hold.received);
    hold.bytes = hold.received;
  };

  new client.Gauge({
    name: 'closeloop_ingest_inflight_bytes', help: 'Bytes of ingestion request bodies held now (admission limit: maxInflightBytes).',
    registers: [opts.metrics.registry], collect() { this.set(budget.held); },
  });
  app.addHook('onReady', async () => budget.lag.start());
  app.addHook('onClose', async () => budget.lag.stop());

  app.addHook('onRequest', (req, reply, done) => {
    if (!isIngest(req)) return done();
    const announced = Number(req.headers['content-length']) || 0;
    // Too large to be taken at all: the body parser answers 413, whatever the load.
    if (announced > opts.maxBodyBytes) return done();
    // The body of a refused request is read and dropped after the answer, which keeps the
    // connection: closing it instead would reset a client still sending, before it reads the 503.
    if (!budget.admit(announced)) return done(overloaded(reply));
    const hold: Hold = { bytes: announced, received: 0, bodyDone: false, refused: false, released: false, timer: null };
    if (announced > 0) hold.timer = setTimeout(shrink, RESERVATION_GRACE_MS, hold);
    holds.set(req, hold);
    // A body cut off half-way never reaches a handler: nothing else holds it.
    reply.raw.once('close', () => { if (!hold.bodyDone) release(hold); });
    done();
  });

  app.addHook('preParsing', (req, reply, payload, done) => {
    const hold = holds.get(req);
    if (hold === undefined) return done(null, payload);
    const counted = new Transform({
      transform(chunk: Buffer, _enc, cb: TransformCallback) {
        // Refused, or answered already (a 413 answers before the body is read): nothing to keep.
        if (hold.refused || hold.released) return cb();
        hold.received += chunk.length;
        budget.arrived(chunk.length);
        const more = hold.received - hold.bytes;
        if (more <= 0 || budget.take(more)) {
          if (more > 0) hold.bytes += more;
          return cb(null, chunk);
        }
        hold.refused = true;
        release(hold);
        cb();
      },
      flush(cb: TransformCallback) {
        hold.bodyDone = true;
        if (hold.timer !== null) clearTimeout(hold.timer);
        cb(hold.refused ? overloaded(reply) : null);
      },
    });
    // pipeline passes an aborted upload's error on to the parser, which answers it.
    pipeline(payload, counted, () => {});
    done(null, counted);
  });

  // Every answer of these routes goes through reply.send, error or not: the work is done.
  app.addHook('onSend', (req, _reply, payload, done) => {
    const hold = holds.get(req);
    if (hold !== undefined && !hold.released) {
      budget.answered.add(hold.received);
      release(hold);
    }
    done(null, payload);
  });

  return budget;
}
