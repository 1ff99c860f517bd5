// Whether the topic still holds the whole log, decided from what Kafka says: a rebuild from the earliest record
// reproduces the live projection only if no record was ever deleted. Pure, so each case is tested.
import type { TopicRetention } from '../kafka/index.ts'

/** Settings that delete records, in words; empty when the topic keeps everything. */
export function deletingSettings(retention: TopicRetention): string[] {
  const found: string[] = []
  if (retention.retentionMs >= 0) found.push(`retention.ms=${retention.retentionMs}`)
  if (retention.retentionBytes >= 0) found.push(`retention.bytes=${retention.retentionBytes}`)
  if (retention.cleanupPolicy.includes('compact')) found.push(`cleanup.policy=${retention.cleanupPolicy}`)
  return found
}

/**
 * Why a rebuild from the earliest record must be refused: some partition no longer starts at offset 0, so records
 * are gone and the shadow would miss them. Undefined when every partition starts at 0.
 */
export function retentionRefusal(
  topic: string,
  starts: ReadonlyMap<number, bigint>,
  retention: TopicRetention,
): string | undefined {
  const moved = [...starts].filter(([, start]) => start > 0n).sort(([a], [b]) => a - b)
  if (moved.length === 0) return undefined
  const shown = moved.slice(0, 20).map(([p, start]) => `partition ${p} starts at offset ${start}`)
  const more = moved.length > shown.length ? ` and ${moved.length - shown.length} more` : ''
  const settings = deletingSettings(retention)
  return (
    `records of ${topic} were deleted: ${shown.join(', ')}${more} ` +
    `(${settings.length > 0 ? settings.join(', ') : `retention.ms=${retention.retentionMs}`}). ` +
    'A rebuild from what is left would not reproduce the live projection; give --from TIMESTAMP to rebuild ' +
    'from a point in time knowingly (rows older than it are missing from the shadow)'
  )
}

/** The start-up warning for a topic whose settings will delete records; undefined when it keeps them all. */
export function retentionWarning(topic: string, retention: TopicRetention): string | undefined {
  const settings = deletingSettings(retention)
  if (settings.length === 0) return undefined
  return (
    `topic ${topic} deletes records (${settings.join(', ')}): the projection cannot be rebuilt from the log ` +
    `once they are gone; keep it all with kafka-configs --alter --entity-type topics --entity-name ${topic} ` +
    '--add-config retention.ms=-1,retention.bytes=-1'
  )
}
