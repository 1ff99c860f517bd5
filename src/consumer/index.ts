export {
  type ConsumerService,
  type ConsumerServiceOptions,
  type ConsumerStatus,
  createConsumerService,
} from './consumer.ts'
export { createProcessor, type InboundRecord, type Processor } from './process.ts'
export { type ConsumerSettings, consumerSettingsOf } from './settings.ts'
