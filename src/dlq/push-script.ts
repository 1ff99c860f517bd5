// The idempotent push: one Lua script per chunk of dead letters, so that each Kafka record lands in the list
// exactly once however often it is pushed (a command retried after its reply was lost, a record redelivered
// after a crash between the push and the offset commit).
//
// The coordinates of every record pushed live in a sorted set next to the list (`<list key>:seen`), scored by
// the Redis server's clock at the push. A sorted set rather than one key per record with a TTL: trimming by
// age is one ZREMRANGEBYSCORE and trimming by count one ZREMRANGEBYRANK (oldest first), both inside the script,
// and the whole memory of the dedupe is one key that a purge or a test can drop. The server's clock, not the
// client's, so that producers and consumers on hosts whose clocks disagree still age entries consistently.
// The record is remembered for as long as the set keeps it: a redelivery later than that pushes it again.
//
// Both scripts also keep the eventId index (`<list key>:by-event`, see by-event.ts) in the same atomic step, so
// a lookup by eventId never scans the list and never sees an entry the index does not know, or the reverse.
import { indexAppendLua } from './by-event.ts'
import type { DeadLetter } from './record.ts'

/**
 * KEYS[1] the list, KEYS[2] the seen-set, KEYS[3] the eventId index, KEYS[4] its "complete" mark. ARGV[1] max
 * age of a seen member (ms), ARGV[2] most members kept, then one (id, eventId, entry) triple per dead letter,
 * oldest first. An empty id means "no coordinates": always pushed; an empty eventId: not indexed. Returns how
 * many entries were pushed. Trims after adding, so the set never passes the cap between calls.
 *
 * Reads first, LPUSH as the first write, ZADD after: Redis refuses a script's first write when it started with
 * memory over `maxmemory` (noeviction) and lets every later write through, so a full Redis fails the whole call
 * with nothing written, never remembering a record as seen that the list does not hold.
 */
export const pushLua = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local maxAge = tonumber(ARGV[1])
local maxCount = tonumber(ARGV[2])
local fresh = redis.call('LLEN', KEYS[1]) == 0
local entries = {}
local eventIds = {}
local ids = {}
local taken = {}
for i = 3, #ARGV, 3 do
  local id = ARGV[i]
  if id == '' or (not taken[id] and not redis.call('ZSCORE', KEYS[2], id)) then
    if id ~= '' then
      taken[id] = true
      ids[#ids + 1] = id
    end
    entries[#entries + 1] = ARGV[i + 2]
    eventIds[#entries] = ARGV[i + 1]
  end
end
if #entries > 0 then
  redis.call('LPUSH', KEYS[1], unpack(entries))
  ${indexAppendLua}
  for n, entry in ipairs(entries) do indexAppend(KEYS[3], KEYS[4], fresh and n == 1, eventIds[n], entry) end
end
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[2], now, id) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now - maxAge))
local excess = redis.call('ZCARD', KEYS[2]) - maxCount
if excess > 0 then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1) end
return #entries
`

/**
 * The capped push of one producer entry (a refused request). KEYS[1] the list, KEYS[2] the hash that counts the
 * producer's entries in it (`entries`, `bytes`), KEYS[3] the eventId index, KEYS[4] its "complete" mark.
 * ARGV[1] most entries, ARGV[2] most bytes, ARGV[3] the entry, ARGV[4] its eventId ('' when it has none).
 * Returns 'stored', or the cap that refused it: 'entries' or 'bytes'.
 *
 * A counter next to the list rather than a scan of it: checking is O(1) however long the list, and the check and
 * the push are one atomic step, so producers racing each other cannot pass the caps together. The removal script
 * (by-event.ts) takes a removed producer entry off the counter; entries removed by hand (LREM, LTRIM) are not
 * seen, so it may over-count, which drops more, never stores more; it starts again from zero when the list is
 * gone (emptied or deleted by hand), is clamped to LLEN, and deleting the counter key resets it.
 */
export const producerPushLua = `
local entries, bytes = 0, 0
local length = redis.call('LLEN', KEYS[1])
if length > 0 then
  local counted = redis.call('HMGET', KEYS[2], 'entries', 'bytes')
  entries = math.min(tonumber(counted[1]) or 0, length)
  bytes = tonumber(counted[2]) or 0
end
local size = string.len(ARGV[3])
if entries + 1 > tonumber(ARGV[1]) then return 'entries' end
if bytes + size > tonumber(ARGV[2]) then return 'bytes' end
redis.call('LPUSH', KEYS[1], ARGV[3])
redis.call('HSET', KEYS[2], 'entries', entries + 1, 'bytes', bytes + size)
${indexAppendLua}
indexAppend(KEYS[3], KEYS[4], length == 0, ARGV[4], ARGV[3])
return 'stored'
`

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
