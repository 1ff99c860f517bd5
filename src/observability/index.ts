export { eventFields, type RecordPosition } from './event-fields.ts'
export { configureLogOutput, createLogger, type Logger, logOutputIsPretty, redactPaths } from './logger.ts'
export {
  type ConsumerMetrics,
  consumerMetrics,
  createRegistry,
  type DlqMetrics,
  dlqMetrics,
  type HttpMetrics,
  httpMetrics,
  type ProducerMetrics,
  producerMetrics,
  readinessMetric,
} from './metrics.ts'
export {
  PrometheusQueryError,
  parseMatrix,
  queryRange,
  type RangeQuery,
  type RangeResult,
  type RangeSeries,
} from './prometheus-range.ts'
