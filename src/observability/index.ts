export { createLogger, type Logger, redactPaths } from './logger.ts'
export {
  type ConsumerMetrics,
  consumerMetrics,
  createRegistry,
  type HttpMetrics,
  httpMetrics,
  type ProducerMetrics,
  producerMetrics,
} from './metrics.ts'
