// The eventId index of the DLQ: a hash `<list key>:by-event` whose field is an entry's eventId and whose value
// is the exact text of every entry in the list with that eventId, oldest first, one per line (an entry is
// JSON.stringify output, which never holds a raw newline). The exact texts, not positions: LREM needs the text,
// and positions move at every push.
//
// The index is written only by Lua, in the same atomic step as the list: the push scripts (push-script.ts) add
// what they LPUSH, the removal script below takes off what it LREMs. A second key, `<list key>:by-event:complete`,
// says the index covers every entry: the push that finds the list empty sets it (dropping whatever stale index a
// hand-deleted list left behind), and so does a rebuild. A list with entries older than the index (pushed by an
// earlier version, or by hand) has no mark; the first lookup then rebuilds the index in one script
// (`reindexLua`), and `dlq reindex` does the same on demand.

/** The hash from eventId to the entries holding it. */
export const indexKeyOf = (key: string) => `${key}:by-event`
/** Set when the index covers every entry of the list. */
export const indexCompleteKeyOf = (key: string) => `${key}:by-event:complete`

/** Entries per LRANGE inside the rebuild script. */
const reindexPage = 1000

/**
 * Lua defining `indexAppend(index, mark, fresh, eventId, entry)`, pasted into the push scripts after their LPUSH
 * (the first write, see push-script.ts). `fresh`: the list was empty before this push, so any index left over is
 * stale and the one started now is complete. An empty eventId is not indexed.
 */
export const indexAppendLua = `
local function indexAppend(index, mark, fresh, eventId, entry)
  if fresh then
    redis.call('DEL', index)
    redis.call('SET', mark, '1')
  end
  if eventId == '' then return end
  local old = redis.call('HGET', index, eventId)
  if old then redis.call('HSET', index, eventId, old .. '\\n' .. entry) else redis.call('HSET', index, eventId, entry) end
end
`

/**
 * KEYS[1] the list, KEYS[2] the index, KEYS[3] the producer's counter (see producerPushLua). ARGV: entry texts.
 * Removes one occurrence of each from the list (LREM count 1) and, for each one removed, from its eventId's
 * line in the index and, for a producer entry, from the producer's counter. Returns, per argument, 1 when it was
 * removed and 0 when the list did not hold it (already removed by someone else).
 */
export const removeLua = `
local removed = {}
for i, entry in ipairs(ARGV) do
  local n = redis.call('LREM', KEYS[1], 1, entry)
  removed[i] = n
  if n > 0 then
    local ok, letter = pcall(cjson.decode, entry)
    if ok and type(letter) == 'table' then
      if type(letter.eventId) == 'string' then
        local value = redis.call('HGET', KEYS[2], letter.eventId)
        if value then
          local kept, dropped, from = {}, false, 1
          while from <= #value + 1 do
            local stop = string.find(value, '\\n', from, true) or (#value + 1)
            local line = string.sub(value, from, stop - 1)
            if not dropped and line == entry then dropped = true else kept[#kept + 1] = line end
            from = stop + 1
          end
          if #kept == 0 then redis.call('HDEL', KEYS[2], letter.eventId)
          else redis.call('HSET', KEYS[2], letter.eventId, table.concat(kept, '\\n')) end
        end
      end
      if letter.source == 'producer' then
        local counted = redis.call('HMGET', KEYS[3], 'entries', 'bytes')
        if counted[1] then
          redis.call('HSET', KEYS[3], 'entries', math.max(0, tonumber(counted[1]) - 1),
            'bytes', math.max(0, (tonumber(counted[2]) or 0) - #entry))
        end
      end
    end
  end
end
return removed
`

/**
 * KEYS[1] the list, KEYS[2] the index, KEYS[3] its "complete" mark. Rebuilds the index from the whole list,
 * oldest entry first, in one atomic step (so no push or removal can slip between the read and the write), and
 * marks it complete. Returns how many entries carry an eventId. Redis is busy for the script's length: about a
 * second per few hundred thousand entries, a pause the pipeline's clients ride out as a slow Redis.
 */
export const reindexLua = `
redis.call('DEL', KEYS[2])
local byEvent, order, indexed = {}, {}, 0
local length = redis.call('LLEN', KEYS[1])
-- Pages by distance from the tail (1 = the oldest entry), each read newest first and walked backwards.
local low = 1
while low <= length do
  local high = math.min(length, low + ${reindexPage} - 1)
  local page = redis.call('LRANGE', KEYS[1], -high, -low)
  for i = #page, 1, -1 do
    local entry = page[i]
    local ok, letter = pcall(cjson.decode, entry)
    if ok and type(letter) == 'table' and type(letter.eventId) == 'string' then
      local lines = byEvent[letter.eventId]
      if not lines then
        lines = {}
        byEvent[letter.eventId] = lines
        order[#order + 1] = letter.eventId
      end
      lines[#lines + 1] = entry
      indexed = indexed + 1
    end
  end
  low = high + 1
end
for _, eventId in ipairs(order) do redis.call('HSET', KEYS[2], eventId, table.concat(byEvent[eventId], '\\n')) end
redis.call('SET', KEYS[3], '1')
return indexed
`

/** The entry texts an index value holds, newest first (the list's own order). */
export function indexedEntries(value: string | null): string[] {
  if (value === null || value === '') return []
  return value.split('\n').reverse()
}
