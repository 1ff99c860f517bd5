export { boundLetter, capText, defaultEntryMaxBytes, textMaxBytes, utf8Prefix } from './bound.ts'
export { indexCompleteKeyOf, indexedEntries, indexKeyOf } from './by-event.ts'
export { type Counts, createIntervalLog, defaultReportIntervalMs, type IntervalLog } from './interval-log.ts'
export { type ChunkLimits, chunkArgs, defaultChunkLimits, seenId } from './push-script.ts'
export { type DeadLetter, encodeBoundedPayload, encodePayload } from './record.ts'
export {
  createRedisClient,
  createRedisDlq,
  type DeadLetterQueue,
  type DlqConfig,
  defaultProducerCaps,
  defaultSeenMaxAgeMs,
  defaultSeenMaxCount,
  dlqFromConfig,
  isRedisFull,
  type ProducerCap,
  type ProducerCaps,
  type PushOutcome,
  producerCounterKeyOf,
  type RedisDlqOptions,
  redisFullReason,
  type StoredLetter,
  seenKeyOf,
} from './redis.ts'
export { type OriginalRecord, parseRedriveSource, redriveSourceHeader, redriveSourceOf } from './redrive-source.ts'
