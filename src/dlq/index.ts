export { boundLetter, capText, defaultEntryMaxBytes, textMaxBytes, utf8Prefix } from './bound.ts'
export { type Counts, createIntervalLog, defaultReportIntervalMs, type IntervalLog } from './interval-log.ts'
export { type ChunkLimits, chunkArgs, defaultChunkLimits, seenId } from './push-script.ts'
export { type DeadLetter, encodePayload } from './record.ts'
export {
  createRedisDlq,
  type DeadLetterQueue,
  defaultProducerCaps,
  isRedisFull,
  type ProducerCap,
  type ProducerCaps,
  producerCounterKeyOf,
  type PushOutcome,
  redisFullReason,
  defaultSeenMaxAgeMs,
  defaultSeenMaxCount,
  dlqFromConfig,
  type RedisDlqOptions,
  seenKeyOf,
} from './redis.ts'
