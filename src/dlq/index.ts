export { type DeadLetter, encodePayload } from './record.ts'
export { createRedisDlq, type DeadLetterQueue, type RedisDlqOptions } from './redis.ts'
