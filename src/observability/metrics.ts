// One prom-client registry per role, so `pipeline all` serves three separate /metrics like the reference system's
// three processes. Metric names are the reference system's: events_produced_total, messages_processed_total,
// dlq_count_total, db_latency_seconds, http_requests_total, http_latency_seconds.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { Role } from '../config/index.ts'
import { pendingCountCap } from '../store/index.ts'

/**
 * Gauges of prom-client's default metrics named like counters, which `promtool check metrics` rejects (a
 * `_total` suffix promises a counter to rate()): each only sums the gauge of the same name without the suffix
 * (nodejs_active_handles by type, …), which stays.
 */
const misnamedDefaults = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
]

export function createRegistry(role: Role, defaultMetrics = true): Registry {
  const registry = new Registry()
  registry.setDefaultLabels({ role })
  if (defaultMetrics) {
    collectDefaultMetrics({ register: registry })
    for (const name of misnamedDefaults) registry.removeSingleMetric(name)
  }
  return registry
}

export function httpMetrics(registry: Registry) {
  return {
    requests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests served, by method, route and status code',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'http_latency_seconds',
      help: 'HTTP request latency in seconds, by method and route',
      labelNames: ['method', 'route'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  }
}

/**
 * `role_ready`: 1 while the role's readiness checks pass (what GET /ready answers), else 0. The checks run when
 * the registry is scraped, so an alert on it needs no probe of its own; `probe` must bound its own time.
 */
export function readinessMetric(registry: Registry, probe: () => Promise<boolean>): Gauge {
  return new Gauge({
    name: 'role_ready',
    help: 'Whether the role is ready (1) or not (0), as GET /ready answers; checked at each scrape',
    registers: [registry],
    async collect() {
      this.set((await probe()) ? 1 : 0)
    },
  })
}

export function producerMetrics(registry: Registry) {
  return {
    produced: new Counter({
      name: 'events_produced_total',
      help: 'Events acknowledged by Kafka, by event type',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'events_rejected_total',
      help: 'Events rejected by the producer before Kafka, by error code',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    dlqDropped: new Counter({
      name: 'dlq_dropped_total',
      help: 'Refused requests not dead-lettered, by reason: rate (PRODUCER_DLQ_PER_SECOND), entries or bytes (PRODUCER_DLQ_MAX_*), unavailable (the push failed)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
  }
}

/** Metrics of the dead-letter queue's Redis, in the registry of the role that pushes (producer or consumer). */
export function dlqMetrics(registry: Registry) {
  return {
    pushFailures: new Counter({
      name: 'dlq_push_failures_total',
      help: 'DLQ pushes that failed, by reason: full (Redis refused the write: maxmemory), cap (the consumer caps) or unavailable',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    redisFull: new Gauge({
      name: 'dlq_redis_full',
      help: '1 while the last DLQ push failed because Redis is full (maxmemory), else 0',
      registers: [registry],
    }),
    capReached: new Gauge({
      name: 'dlq_cap_reached',
      help: '1 while the consumer holds records back because its DLQ entries reached CONSUMER_DLQ_MAX_ENTRIES or _BYTES, else 0',
      registers: [registry],
    }),
  }
}

export function consumerMetrics(registry: Registry) {
  const cap = pendingCountCap.toLocaleString('en-US')
  return {
    processed: new Counter({
      name: 'messages_processed_total',
      help: 'Records applied to the store, by event type',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
    dlq: new Counter({
      name: 'dlq_count_total',
      help: 'Records pushed to the dead-letter queue',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    dbLatency: new Histogram({
      name: 'db_latency_seconds',
      help: 'Latency of one store transaction (a batch), in seconds',
      labelNames: ['operation'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'consumer_batch_size',
      help: 'Records per applied batch',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
      registers: [registry],
    }),
    lag: new Gauge({
      name: 'consumer_lag',
      help: 'Records between the committed offset and the end of the partition',
      labelNames: ['topic', 'partition'] as const,
      registers: [registry],
    }),
    retries: new Counter({
      name: 'consumer_retries_total',
      help: 'Batches retried after a transient failure, by error code',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    pending: new Gauge({
      name: 'pending_events',
      help: `Events stored as pending because their parent is not stored yet (all members, as last counted here), counted up to ${cap}: see pending_events_capped`,
      registers: [registry],
    }),
    pendingCapped: new Gauge({
      name: 'pending_events_capped',
      help: `1 when more pending events wait than pending_events says: counting stops at ${cap}`,
      registers: [registry],
    }),
    pendingOldestAge: new Gauge({
      name: 'pending_oldest_age_seconds',
      help: 'Age of the oldest pending event in seconds (0 when there is none); dead-lettered past PENDING_MAX_AGE',
      registers: [registry],
    }),
    paused: new Gauge({
      name: 'consumer_paused',
      help: '1 per partition this member owns that the pause board pauses (pipeline pause, POST /admin/consumer/pause)',
      labelNames: ['partition'] as const,
      registers: [registry],
    }),
    pendingResolved: new Counter({
      name: 'pending_resolved_total',
      help: 'Pending events applied after their parent was stored by another transaction (a lane or member running at the same time)',
      registers: [registry],
    }),
  }
}

export type HttpMetrics = ReturnType<typeof httpMetrics>
export type ProducerMetrics = ReturnType<typeof producerMetrics>
export type ConsumerMetrics = ReturnType<typeof consumerMetrics>
export type DlqMetrics = ReturnType<typeof dlqMetrics>
