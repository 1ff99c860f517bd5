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
import { indexLua } from './by-event.ts'
import type { DeadLetter } from './record.ts'

/**
 * KEYS[1] the list, KEYS[2] the seen-set, KEYS[3] the meta hash. ARGV[1] max age of a seen member (ms), ARGV[2]
 * most members kept, ARGV[3] the writer ('consumer' or 'producer'), ARGV[4] its most entries, ARGV[5] its most
 * bytes, then one (id, eventId, entry) triple per dead letter, oldest first. An empty id means "no coordinates":
 * never taken for a repeat; an empty eventId: kept only in the generation's set of entries without one. Returns {pushed, refused}: refused is '' when every
 * new entry fit, else the cap that stopped the call ('entries' or 'bytes'), and then the entries from the first
 * that did not fit on were not pushed (nor remembered as seen). Trims the seen-set after adding, so it never
 * passes its cap between calls.
 */
export const pushLua = `${indexLua}
local meta, prefix = KEYS[3], prefixOf(KEYS[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local maxAge, maxCount = tonumber(ARGV[1]), tonumber(ARGV[2])
local maxEntries, maxBytes = tonumber(ARGV[4]), tonumber(ARGV[5])
local e, b = counterFields(ARGV[3])
local m = redis.call('HMGET', meta, 'gen', 'indexed', e, b)
local gen = m[1] or '0'
local fresh = redis.call('LLEN', KEYS[1]) == 0
local entries, bytes = 0, 0
if not fresh then entries, bytes = tonumber(m[3]) or 0, tonumber(m[4]) or 0 end
local texts, eventIds, ids, taken = {}, {}, {}, {}
local added, refused = 0, ''
for i = 6, #ARGV, 3 do
  local id = ARGV[i]
  if id == '' or (not taken[id] and not redis.call('ZSCORE', KEYS[2], id)) then
    local size = string.len(ARGV[i + 2])
    if entries + 1 > maxEntries then refused = 'entries' break end
    if bytes + size > maxBytes then refused = 'bytes' break end
    entries, bytes, added = entries + 1, bytes + size, added + size
    if id ~= '' then
      taken[id] = true
      ids[#ids + 1] = id
    end
    texts[#texts + 1] = ARGV[i + 2]
    eventIds[#texts] = ARGV[i + 1]
  end
end
if #texts > 0 then
  redis.call('LPUSH', KEYS[1], unpack(texts))
  if fresh then
    -- An empty list has an empty index: whatever the current generation holds is stale.
    retire(prefix, gen)
    gen = newGeneration()
    redis.call('HSET', meta, 'gen', gen, 'indexed', '1', 'rm', 0, 'ce', 0, 'cb', 0, 'pe', 0, 'pb', 0)
    redis.call('HDEL', meta, 'rebuilt', 'target', 'base')
    redis.call('DEL', prefix .. 'tally')
  end
  local last = redis.call('HINCRBY', meta, 'seq', #texts)
  for n, text in ipairs(texts) do
    indexAdd(prefix, gen, eventIds[n], text, last - #texts + n)
    local _, _, letter = eventIdOf(text)
    tally(prefix, letter, 1)
  end
  redis.call('HSET', meta, e, entries, b, bytes)
end
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[2], now, id) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now - maxAge))
local excess = redis.call('ZCARD', KEYS[2]) - maxCount
if excess > 0 then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1) end
cleanup(prefix, 10)
return {#texts, refused}
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
