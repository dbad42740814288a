import type { DialectName } from '../core/index.js';

/** What the pipeline reports; the server wires it to Prometheus counters. */
export interface IngestMetrics {
  accepted(dialect: DialectName, n: number): void;
  duplicate(dialect: DialectName, n: number): void;
  rejected(dialect: DialectName, code: string, n: number): void;
  batchSize(dialect: DialectName, n: number): void;
}

export const noMetrics: IngestMetrics = {
  accepted: () => {},
  duplicate: () => {},
  rejected: () => {},
  batchSize: () => {},
};
