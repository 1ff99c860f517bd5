export type { DeadLetterSink } from './dead-letters.ts'
export { createProcessor, type InboundRecord, type Processor } from './process.ts'
export { type SeriesSnapshot, seriesCapacity, seriesMaxPartitions } from './series.ts'
export {
  type ConsumerService,
  type ConsumerServiceOptions,
  type ConsumerStatus,
  createConsumerService,
} from './service.ts'
export { type ConsumerSettings, consumerSettingsOf } from './settings.ts'
