export {
  closeClient,
  connected,
  createRedisClient,
  hostAndPort,
  isClusterAddr,
  isRedisError,
  isRedisFull,
  nodesOf,
  type RedisClient,
  type RedisClientOptions,
  redisCall,
  redisFullReason,
} from '../redis/client.ts'
export { companionKey, type DlqKeys, dlqKeys, hashTagOf, legacyKeysOf } from '../redis/keys.ts'
export { boundLetter, capText, defaultEntryMaxBytes, textMaxBytes, utf8Prefix } from './bound.ts'
export { type Counts, createIntervalLog, defaultReportIntervalMs, type IntervalLog } from './interval-log.ts'
export {
  type DeadLettered,
  deadLetteredOf,
  type KeyAnswer,
  type KeyClass,
  type KeyQuestion,
  keyQuestionsMax,
  type NewestDeadLetter,
  questionsFor,
  questionsForTable,
  type RowsRead,
} from './key-summary.ts'
export { type ChunkLimits, chunkArgs, defaultChunkLimits, seenId } from './push-script.ts'
export { type DeadLetter, encodeBoundedPayload, encodePayload } from './record.ts'
export {
  createRedisDlq,
  type DeadLetterQueue,
  type DlqConfig,
  type DlqTally,
  type DlqUsage,
  defaultConsumerCaps,
  defaultProducerCaps,
  defaultSeenMaxAgeMs,
  defaultSeenMaxCount,
  dlqFromConfig,
  type EventPage,
  eventPageMax,
  type IndexedLetter,
  type PushOutcome,
  type RedisDlqOptions,
  redisOptionsOf,
  type StoredLetter,
  seenKeyOf,
  type WriterCap,
  type WriterCaps,
} from './redis.ts'
export { type OriginalRecord, parseRedriveSource, redriveSourceHeader, redriveSourceOf } from './redrive-source.ts'
