// The idempotent, capped push: one Lua script per chunk of dead letters, so that each Kafka record lands in the
// list exactly once however often it is pushed (a command retried after its reply was lost, a record redelivered
// after a crash between the push and the offset commit), and the list never passes its writer's caps.
//
// The coordinates of every record pushed live in a sorted set (`<prefix>seen`), scored by the Redis server's
// clock at the push. A sorted set rather than one key per record with a TTL: trimming by age is one
// ZREMRANGEBYSCORE and trimming by count one ZREMRANGEBYRANK (oldest first), both inside the script, and the
// whole memory of the dedupe is one key that a purge or a test can drop. The server's clock, not the client's,
// so that producers and consumers on hosts whose clocks disagree still age entries consistently. The record is
// remembered for as long as the set keeps it: a redelivery later than that pushes it again.
//
// Each writer has its caps, counted in the meta hash (entries and bytes of its entries in the list, kept by the
// push, the removal and the rebuild in the same atomic steps): checking is O(1) however long the list, and
// writers racing each other cannot pass the caps together. A producer entry over its caps is refused (the
// producer drops it and counts it: the request was answered already). A consumer entry over its caps is not
// pushed, nor any after it in the call, and the script says so: the consumer keeps those records' offsets
// uncommitted and tries again, since a committed record must be in SQL, pending, or here. Entries removed by
// hand (LREM, LTRIM) are not seen, so a counter may over-count, which refuses sooner, never stores more; the
// counters start from zero when the list is found empty, and `dlq reindex` recounts them.
//
// The scripts also keep the eventId index (by-event.ts) in the same atomic step, so a lookup by eventId never
// scans the list and never sees an entry the index does not know, or the reverse.
//
// Under `maxmemory` with noeviction, Redis refuses a script's first write when it started over the limit and lets
// every later write through: every script reads first, so a full Redis fails the whole call with nothing
// written, never remembering a record as seen that the list does not hold.
import type { DeadLetter } from './record.ts'

/**
 * A record's identity in the seen-set: its coordinates and, when known, its topic's ID, so a record of a topic
 * re-created under the same name is not taken for one of the old topic at the same offset. '' when it has no
 * Kafka coordinates (an event the producer refused).
 */
export function seenId(letter: Pick<DeadLetter, 'topic' | 'topicId' | 'partition' | 'offset'>): string {
  if (letter.topic === null || letter.partition === null || letter.offset === null) return ''
  // Topic names cannot contain '/' or '@' (Kafka allows [a-zA-Z0-9._-]), so the parts cannot run together.
  const coordinates = `${letter.topic}/${letter.partition}/${letter.offset}`
  return letter.topicId === undefined ? coordinates : `${coordinates}@${letter.topicId}`
}

export interface ChunkLimits {
  /** Most entries per script call. */
  readonly maxEntries: number
  /** Most bytes of ids and entries per script call; an entry larger than this goes alone. */
  readonly maxBytes: number
}

export const defaultChunkLimits: ChunkLimits = Object.freeze({ maxEntries: 500, maxBytes: 4 * 1024 * 1024 })

/**
 * The script's arguments after the two limits: (id, eventId, entry) triples, split into calls within `limits`,
 * in order.
 */
export function chunkArgs(letters: readonly DeadLetter[], limits: ChunkLimits = defaultChunkLimits): string[][] {
  const chunks: string[][] = []
  let chunk: string[] = []
  let bytes = 0
  for (const letter of letters) {
    const id = seenId(letter)
    const eventId = letter.eventId ?? ''
    const entry = JSON.stringify(letter)
    const size = Buffer.byteLength(id) + Buffer.byteLength(eventId) + Buffer.byteLength(entry)
    if (chunk.length > 0 && (chunk.length / 3 >= limits.maxEntries || bytes + size > limits.maxBytes)) {
      chunks.push(chunk)
      chunk = []
      bytes = 0
    }
    chunk.push(id, eventId, entry)
    bytes += size
  }
  if (chunk.length > 0) chunks.push(chunk)
  return chunks
}
