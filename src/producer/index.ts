export {
  type BatchEntryResult,
  buildProducerApp,
  type ProduceResult,
  type ProducerAppOptions,
  type RejectedSink,
} from './app.ts'
export { ProduceService, type ProduceServiceOptions } from './produce.ts'
export { createPublisher, type PublishedOffset, type Publisher, type PublisherOptions } from './publisher.ts'
export {
  createRefused,
  type RefusedLimits,
  type Rejection,
  summaryLetter,
  summaryMessage,
  TokenBucket,
} from './refused.ts'
