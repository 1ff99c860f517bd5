export { type ChunkLimits, chunkArgs, defaultChunkLimits, seenId } from './push-script.ts'
export { type DeadLetter, encodePayload } from './record.ts'
export {
  createRedisDlq,
  type DeadLetterQueue,
  defaultSeenMaxAgeMs,
  defaultSeenMaxCount,
  dlqFromConfig,
  type RedisDlqOptions,
  seenKeyOf,
} from './redis.ts'
