import client from 'prom-client';
import type { DialectName } from '../core/index.js';
import type { IngestMetrics } from '../ingest/index.js';

/** The service's Prometheus metrics, on a registry of its own (several apps can live in one test process). */
export class Metrics implements IngestMetrics {
  readonly registry = new client.Registry();
  readonly requests = new client.Counter({ name: 'closeloop_http_requests_total', help: 'HTTP requests by route and status.', labelNames: ['route', 'status'] as const, registers: [this.registry] });
  readonly eventsAccepted = new client.Counter({ name: 'closeloop_events_accepted_total', help: 'Events durably stored, by dialect.', labelNames: ['dialect'] as const, registers: [this.registry] });
  readonly eventsDuplicate = new client.Counter({ name: 'closeloop_events_duplicate_total', help: 'Events answered as repeats of an earlier one (idempotency), by dialect.', labelNames: ['dialect'] as const, registers: [this.registry] });
  readonly eventsRejected = new client.Counter({ name: 'closeloop_events_rejected_total', help: 'Events refused, by dialect and reason.', labelNames: ['dialect', 'reason'] as const, registers: [this.registry] });
  readonly batchSizes = new client.Histogram({ name: 'closeloop_batch_size', help: 'Events per ingestion request.', labelNames: ['dialect'] as const, buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500], registers: [this.registry] });
  readonly commitSeconds = new client.Histogram({ name: 'closeloop_commit_seconds', help: 'Duration of one group commit (BEGIN…COMMIT with fsync).', buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [this.registry] });
  readonly commitRows = new client.Histogram({ name: 'closeloop_commit_rows', help: 'Rows written per group commit.', buckets: [1, 10, 50, 100, 500, 1000, 5000], registers: [this.registry] });
  readonly attributionRuns = new client.Counter({ name: 'closeloop_attribution_runs_total', help: 'Attribution runs, by result.', labelNames: ['result'] as const, registers: [this.registry] });

  constructor() {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'closeloop_' });
  }

  // Labelled children are looked up once, not hashed from their labels on every request.
  readonly #accepted = new Map<DialectName, client.Counter.Internal>();
  readonly #batch = new Map<DialectName, client.Histogram.Internal<string>>();
  readonly #requests = new Map<string, client.Counter.Internal>();

  accepted(dialect: DialectName, n: number): void {
    if (n === 0) return;
    let c = this.#accepted.get(dialect);
    if (c === undefined) this.#accepted.set(dialect, (c = this.eventsAccepted.labels({ dialect })));
    c.inc(n);
  }
  duplicate(dialect: DialectName, n: number): void { this.eventsDuplicate.inc({ dialect }, n); }
  rejected(dialect: DialectName, reason: string, n: number): void { this.eventsRejected.inc({ dialect, reason }, n); }
  batchSize(dialect: DialectName, n: number): void {
    let h = this.#batch.get(dialect);
    if (h === undefined) this.#batch.set(dialect, (h = this.batchSizes.labels({ dialect })));
    h.observe(n);
  }
  request(route: string, status: number): void {
    const key = `${status} ${route}`;
    let c = this.#requests.get(key);
    if (c === undefined) this.#requests.set(key, (c = this.requests.labels({ route, status: String(status) })));
    c.inc();
  }
  commit(rows: number, ms: number): void {
    this.commitSeconds.observe(ms / 1000);
    this.commitRows.observe(rows);
  }
}
