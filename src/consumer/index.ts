export type { DeadLetterSink } from './dead-letters.ts'
export {
  type MemberReport,
  type PauseEntry,
  type PauseRecord,
  PauseRequestError,
  type PauseScope,
  pausePartitionsMax,
  pauseReasonMax,
} from './pause.ts'
export {
  PauseBoard,
  type PauseBoardConfig,
  type PauseBoardOptions,
  type PauseChange,
  type PauseState,
  PauseWaitTimeout,
  pauseBoardFromConfig,
} from './pause-board.ts'
export { createProcessor, type InboundRecord, type Processor } from './process.ts'
export { type SeriesSnapshot, seriesCapacity, seriesMaxPartitions } from './series.ts'
export {
  type ConsumerService,
  type ConsumerServiceOptions,
  type ConsumerStatus,
  createConsumerService,
} from './service.ts'
export { type ConsumerSettings, consumerSettingsOf } from './settings.ts'
