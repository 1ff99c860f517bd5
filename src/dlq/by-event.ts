// The eventId index of the DLQ, and everything that walks the list: removal and the index's rebuild.
//
// One sorted set per eventId, `<prefix>ev:<gen>:<eventId>`, whose members are the exact texts of that eventId's
// entries (LREM needs the text) scored by the entry's push sequence (`seq` in the meta hash, one per entry, so
// newest first is descending score and a page's cursor is a score). Appending is one ZADD, removing one ZREM,
// a page one ZREVRANGEBYSCORE: each costs O(log n) in the eventId's entries, never their total size, so however
// many entries share one eventId (an attacker repeating it), neither pushes nor lookups slow down. Identical
// texts (two refused requests alike to the millisecond) are one member plus a count in `<prefix>dup:<gen>`.
// `<prefix>evs:<gen>` holds the eventIds that have a set, so an abandoned generation can be deleted in steps.
//
// The index is written only by Lua, in the same atomic step as the list. The meta hash says which generation is
// current and whether it covers every entry (`indexed`). A list emptied (by removals or by hand) starts a new
// generation at its next push, the old one queued in `<prefix>stale` and deleted a few sets per push (UNLINK:
// freed off Redis's main thread). A list holding entries the index does not cover (written by an earlier
// version, or `dlq reindex`) is indexed again by `rebuildStepLua`, a page of entries per call from the tail
// (oldest) up, so Redis is never held for more than a page; whoever holds the rebuild lease drives it, and
// lookups wait for it. Removals wait too: a rebuild walks positions counted from the tail, which pushes (at the
// head) do not move but removals would.

/**
 * Entries per rebuild step: one step holds Redis for about 20 ms (35 µs an entry, measured at a million
 * entries), and deletes up to four times as many sets of the generation it replaces, so the old index is gone
 * a quarter of the way in and memory holds little more than one index.
 */
export const rebuildPage = 500
/** Most distinct codes and types counted by name in the tally (see indexLua). */
export const tallyFields = 1000

/**
 * Lua shared by the scripts: `indexAdd` and `indexRemove` keep one entry's place in the index, `countOf` and
 * `count` keep the writers' counters (entries and bytes, per source) in the meta hash.
 */
export const indexLua = `
-- The scripts are given the meta key, '<prefix>meta'; every other companion key is built from its prefix.
local function prefixOf(meta) return string.sub(meta, 1, -5) end
-- An entry's eventId ('' when it has none), its writer, and the entry decoded (nil when it is not JSON).
local function eventIdOf(entry)
  local ok, letter = pcall(cjson.decode, entry)
  if ok and type(letter) == 'table' then
    local id = ''
    if type(letter.eventId) == 'string' then id = letter.eventId end
    return id, letter.source, letter
  end
  return '', nil, nil
end
-- The event type an entry's payload names, as the admin's filter reads it: the payload's JSON "type", or for a
-- cut payload the first "type" field of its prefix; '(none)' otherwise. At most 200 bytes.
local function typeOfLetter(letter)
  local payload = letter.payload
  if type(payload) ~= 'string' or letter.payloadEncoding ~= 'utf8' then return '(none)' end
  if letter.payloadTruncated then
    local found = string.match(payload, '"type"%s*:%s*"([^"\\\\]*)"')
    if found then return string.sub(found, 1, 200) end
    return '(none)'
  end
  local ok, value = pcall(cjson.decode, payload)
  if ok and type(value) == 'table' and type(value.type) == 'string' then return string.sub(value.type, 1, 200) end
  return '(none)'
end
-- Counts of the list's entries by error code and by type, in the hash <prefix>tally ('c:<code>', 't:<type>'),
-- kept in the same steps as the list. At most tallyFields distinct fields: codes and types past them are
-- counted as '(other)', so an attacker inventing types cannot grow the hash or the stats answer.
local function tallyField(key, field, n)
  if redis.call('HEXISTS', key, field) == 0 then
    if n < 0 or redis.call('HLEN', key) >= ${tallyFields} then field = string.sub(field, 1, 2) .. '(other)' end
  end
  if redis.call('HINCRBY', key, field, n) <= 0 then redis.call('HDEL', key, field) end
end
local function tally(prefix, letter, n)
  local key = prefix .. 'tally'
  if type(letter) ~= 'table' then
    tallyField(key, 'c:(none)', n)
    tallyField(key, 't:(none)', n)
    return
  end
  local code = '(none)'
  if type(letter.error) == 'table' and type(letter.error.code) == 'string' then code = string.sub(letter.error.code, 1, 200) end
  tallyField(key, 'c:' .. code, n)
  tallyField(key, 't:' .. typeOfLetter(letter), n)
end
-- The sorted set an entry's place is kept in: its eventId's, or for an entry without one the generation's
-- 'noid' set (never looked up by eventId; it gives those entries a score too, which removal steers by).
local function setOf(prefix, gen, eventId)
  if eventId == '' then return prefix .. 'noid:' .. gen end
  return prefix .. 'ev:' .. gen .. ':' .. eventId
end
local function indexAdd(prefix, gen, eventId, entry, score)
  if redis.call('ZADD', setOf(prefix, gen, eventId), 'NX', score, entry) == 0 then
    redis.call('HINCRBY', prefix .. 'dup:' .. gen, entry, 1)
  end
  if eventId ~= '' then redis.call('SADD', prefix .. 'evs:' .. gen, eventId) end
end
local function indexRemove(prefix, gen, eventId, entry)
  local set = setOf(prefix, gen, eventId)
  local dups = prefix .. 'dup:' .. gen
  local extra = tonumber(redis.call('HGET', dups, entry) or '0')
  if extra > 1 then redis.call('HINCRBY', dups, entry, -1)
  elseif extra == 1 then redis.call('HDEL', dups, entry)
  else
    redis.call('ZREM', set, entry)
    if eventId ~= '' and redis.call('ZCARD', set) == 0 then redis.call('SREM', prefix .. 'evs:' .. gen, eventId) end
  end
end
local function counterFields(source)
  if source == 'producer' then return 'pe', 'pb' end
  return 'ce', 'cb'
end
local function count(meta, source, entries, bytes)
  local e, b = counterFields(source)
  local now = redis.call('HMGET', meta, e, b)
  redis.call('HSET', meta, e, math.max(0, (tonumber(now[1]) or 0) + entries), b, math.max(0, (tonumber(now[2]) or 0) + bytes))
end
-- Deletes up to budget sets of abandoned generations, oldest generation first.
local function cleanup(prefix, budget)
  local stale = prefix .. 'stale'
  while budget > 0 do
    local gen = redis.call('LINDEX', stale, -1)
    if not gen then return end
    local ids = redis.call('SPOP', prefix .. 'evs:' .. gen, budget)
    for _, id in ipairs(ids) do redis.call('UNLINK', prefix .. 'ev:' .. gen .. ':' .. id) end
    budget = budget - #ids - 1
    if redis.call('SCARD', prefix .. 'evs:' .. gen) == 0 then
      redis.call('UNLINK', prefix .. 'dup:' .. gen, prefix .. 'noid:' .. gen)
      redis.call('RPOP', stale)
    end
  end
end
-- A new generation's name: the server's clock in microseconds, never reused even when the meta hash is lost.
local function newGeneration()
  local t = redis.call('TIME')
  return t[1] .. string.format('%06d', tonumber(t[2]))
end
-- Abandons generation gen (its sets are deleted by cleanup) when it holds anything.
local function retire(prefix, gen)
  if redis.call('EXISTS', prefix .. 'evs:' .. gen, prefix .. 'dup:' .. gen, prefix .. 'noid:' .. gen) > 0 then
    redis.call('LPUSH', prefix .. 'stale', gen)
  end
end
`

/**
 * KEYS[1] the list, KEYS[2] the meta hash, KEYS[3] the claims of open redrives (hash: digest → job). ARGV[1]
 * '1' to leave claimed entries alone (a purge), ARGV[2] the work budget (list elements LREM may pass), then
 * (entry, digest) pairs. Removes one occurrence of each entry from the list, scanning from the end nearer to it
 * (known from its push sequence; the newest copy of a text held more than once), and from the index and the
 * counters. Stops once the budget is spent (after at least one entry), so one call holds Redis for a bounded
 * time: returns one result per entry it got to (1 removed, 0 not in the list, 2 held by a redrive); the caller
 * sends the rest again. Returns {-1} while the index is being rebuilt: removals wait for it (see above).
 */
export const removeLua = `${indexLua}
local meta, prefix = KEYS[2], prefixOf(KEYS[2])
local m = redis.call('HMGET', meta, 'gen', 'indexed', 'seq', 'rm')
local length = redis.call('LLEN', KEYS[1])
if m[2] ~= '1' and length > 0 then return {-1} end
local gen, seq, removedBefore = m[1] or '0', tonumber(m[3]) or 0, tonumber(m[4]) or 0
local budget, spent, removed, results = tonumber(ARGV[2]), 0, 0, {}
for i = 3, #ARGV, 2 do
  if spent >= budget and #results > 0 then break end
  local entry = ARGV[i]
  if ARGV[1] == '1' and redis.call('HEXISTS', KEYS[3], ARGV[i + 1]) == 1 then
    results[#results + 1] = 2
  else
    local eventId, source, letter = eventIdOf(entry)
    local set = setOf(prefix, gen, eventId)
    -- Upper bounds of the entry's distance from the head and from the tail. seq - score entries were pushed
    -- after it; at most 'rm' (removals in this generation) of them are gone. Entries pushed by hand are not
    -- counted: they can only make a scan longer, never a removal wrong.
    local last = length - 1
    local fromHead, fromTail = last, last
    local score = redis.call('ZSCORE', set, entry)
    if score then
      local after = math.max(0, seq - tonumber(score))
      fromHead = math.min(after, last)
      fromTail = math.max(0, last - math.max(0, after - removedBefore - removed))
    end
    -- LREM scans from the end with the smaller bound. A text held more than once sits in the index where its
    -- oldest copy is: the newest copy goes, from the head.
    local direction, cost = 1, fromHead
    if fromTail < fromHead then direction, cost = -1, fromTail end
    if direction == -1 and redis.call('HEXISTS', prefix .. 'dup:' .. gen, entry) == 1 then
      direction, cost = 1, fromHead
    end
    spent = spent + math.max(1, cost)
    local n = redis.call('LREM', KEYS[1], direction, entry)
    if n > 0 then
      length = length - 1
      removed = removed + 1
      indexRemove(prefix, gen, eventId, entry)
      count(meta, source, -1, -string.len(entry))
      tally(prefix, letter, -1)
    elseif score then
      -- Not in the list (removed by hand): nothing of it may stay in the index either.
      redis.call('HDEL', prefix .. 'dup:' .. gen, entry)
      if redis.call('ZREM', set, entry) == 1 and eventId ~= '' and redis.call('ZCARD', set) == 0 then
        redis.call('SREM', prefix .. 'evs:' .. gen, eventId)
      end
    end
    results[#results + 1] = n
  end
end
if removed > 0 then redis.call('HINCRBY', meta, 'rm', removed) end
return results
`

/**
 * KEYS[1] the list, KEYS[2] the meta hash. ARGV[1] entries per step, ARGV[2] '1' to start a new rebuild even
 * when the index is complete. Starts a rebuild when none runs (a new generation: the current one is retired,
 * the counters start from zero, the entries now in the list are the ones to walk), then indexes the next page
 * of them from the tail, with scores below every later push's. Returns {done (0/1), walked, total}.
 */
export const rebuildStepLua = `${indexLua}
local meta, prefix = KEYS[2], prefixOf(KEYS[2])
local m = redis.call('HMGET', meta, 'gen', 'indexed', 'seq', 'rebuilt', 'target', 'base')
local gen, walked, target, base = m[1] or '0', tonumber(m[4]), tonumber(m[5]), tonumber(m[6])
if m[2] == '1' and ARGV[2] ~= '1' then return {1, 0, 0} end
if not walked or ARGV[2] == '1' and m[2] == '1' then
  retire(prefix, gen)
  gen = newGeneration()
  walked, target = 0, redis.call('LLEN', KEYS[1])
  base = (tonumber(m[3]) or 0) - target
  redis.call('HSET', meta, 'gen', gen, 'rebuilt', 0, 'target', target, 'base', base, 'rm', 0, 'ce', 0, 'cb', 0, 'pe', 0, 'pb', 0)
  redis.call('DEL', prefix .. 'tally')
  redis.call('HDEL', meta, 'indexed')
end
cleanup(prefix, 4 * tonumber(ARGV[1]))
local high = math.min(target, walked + tonumber(ARGV[1]))
if high > walked then
  local page = redis.call('LRANGE', KEYS[1], -high, -(walked + 1))
  for i = #page, 1, -1 do
    local entry = page[i]
    local k = walked + (#page - i) + 1
    local eventId, source, letter = eventIdOf(entry)
    indexAdd(prefix, gen, eventId, entry, base + k)
    count(meta, source, 1, string.len(entry))
    tally(prefix, letter, 1)
  end
end
if high >= target then
  redis.call('HSET', meta, 'indexed', '1')
  redis.call('HDEL', meta, 'rebuilt', 'target', 'base')
  return {1, high, target}
end
redis.call('HSET', meta, 'rebuilt', high)
return {0, high, target}
`

/**
 * KEYS[1] the list, KEYS[2] the meta hash. ARGV[1] eventId, ARGV[2] the cursor (a score: the page starts past
 * it; '' for the first page), ARGV[3] the page size, ARGV[4] 'desc' (newest first) or 'asc'. Returns
 * {state, total, next, entry, score, entry, score, …}: state 'ok', or 'rebuilding' when the index does not
 * cover the list yet; total the eventId's distinct entries; next the cursor of the next page ('' at the end);
 * each entry with its score (the cursor that continues after it). An entry held twice is returned twice, both
 * copies on one page.
 */
export const pageLua = `
local meta, prefix = KEYS[2], string.sub(KEYS[2], 1, -5)
local m = redis.call('HMGET', meta, 'gen', 'indexed')
-- An empty list answers nothing, whatever index a hand deletion left behind (the next push retires it).
if redis.call('LLEN', KEYS[1]) == 0 then return {'ok', 0, ''} end
if m[2] ~= '1' then return {'rebuilding', 0, ''} end
local set = prefix .. 'ev:' .. m[1] .. ':' .. ARGV[1]
local limit = tonumber(ARGV[3])
local found
if ARGV[4] == 'asc' then
  local min = '-inf'
  if ARGV[2] ~= '' then min = '(' .. ARGV[2] end
  found = redis.call('ZRANGEBYSCORE', set, min, '+inf', 'WITHSCORES', 'LIMIT', 0, limit + 1)
else
  local max = '+inf'
  if ARGV[2] ~= '' then max = '(' .. ARGV[2] end
  found = redis.call('ZREVRANGEBYSCORE', set, max, '-inf', 'WITHSCORES', 'LIMIT', 0, limit + 1)
end
local answer = {'ok', redis.call('ZCARD', set), ''}
-- The cursor is a score, so every copy of a text goes on one page: a page holds as many whole texts as fit in
-- limit entries, and always the first, however many copies it has.
local n, held = 0, 0
for i = 1, math.min(limit, #found / 2) do
  local entry, score = found[2 * i - 1], found[2 * i]
  local copies = 1 + tonumber(redis.call('HGET', prefix .. 'dup:' .. m[1], entry) or '0')
  if i > 1 and held + copies > limit then break end
  for _ = 1, copies do
    answer[#answer + 1] = entry
    answer[#answer + 1] = score
  end
  n, held = i, held + copies
end
if #found / 2 > n then answer[3] = found[2 * n] end
return answer
`

/**
 * KEYS[1] the meta hash. ARGV[1] how many sets to delete. Deletes sets of abandoned generations (what a rebuild
 * or an emptied list left behind); returns how many generations are still to delete.
 */
export const cleanupLua = `${indexLua}
local prefix = prefixOf(KEYS[1])
cleanup(prefix, tonumber(ARGV[1]))
return redis.call('LLEN', prefix .. 'stale')
`

/** The page size and the cursor's form are the callers' (see redis.ts); this checks a cursor they were given. */
export function isScoreCursor(cursor: string): boolean {
  return /^-?\d{1,17}$/.test(cursor)
}
