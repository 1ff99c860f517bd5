import { randomBytes } from 'node:crypto'

/**
 * A name no other test or bench run uses (prefix, time, random suffix), valid as a PostgreSQL identifier and,
 * with `_` replaced by `-`, as a Kafka topic or group.
 */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
}
