export { type DeadLetter, encodePayload } from './record.ts'
export { createRedisDlq, type DeadLetterQueue, dlqFromConfig, type RedisDlqOptions } from './redis.ts'
