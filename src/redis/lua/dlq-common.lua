-- Lua shared by the scripts: `indexAdd` and `indexRemove` keep one entry's place in the index and the key summary,
-- `countOf` and `count` keep the writers' counters (entries and bytes, per source) in the meta hash.
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
-- cut payload the first "type" field of its prefix; '(none)' otherwise. At most 200 bytes. Kept per decoded entry
-- (a weak table), so the tally and the key summary decode a payload once.
local typesOf = setmetatable({}, { __mode = 'k' })
local function readTypeOf(letter)
  local payload = letter.payload
  if type(payload) ~= 'string' or letter.payloadEncoding ~= 'utf8' then return '(none)' end
  if letter.payloadTruncated then
    local found = string.match(payload, '"type"%s*:%s*"([^"\\]*)"')
    if found then return string.sub(found, 1, 200) end
    return '(none)'
  end
  local ok, value = pcall(cjson.decode, payload)
  if ok and type(value) == 'table' and type(value.type) == 'string' then return string.sub(value.type, 1, 200) end
  return '(none)'
end
local function typeOfLetter(letter)
  local found = typesOf[letter]
  if not found then
    found = readTypeOf(letter)
    typesOf[letter] = found
  end
  return found
end
-- Counts of the list's entries by error code and by type, in the hash <prefix>tally ('c:<code>', 't:<type>'),
-- kept in the same steps as the list. At most tallyFields distinct fields: codes and types past them are
-- counted as '(other)', so an attacker inventing types cannot grow the hash or the stats answer.
local function tallyField(key, field, n)
  if redis.call('HEXISTS', key, field) == 0 then
    if n < 0 or redis.call('HLEN', key) >= 1000 then field = string.sub(field, 1, 2) .. '(other)' end
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
-- The key summary (src/dlq/key-summary.ts): per (class, Kafka key), a sorted set of the distinct entry texts that
-- stand for a record in the log, scored by offset, so a read asks "how many after offset o, and the newest" in
-- O(log n). The class is what the payload's type concerns: 'u' users, 'o' orders, 'p' payments, 'i' inventory,
-- '?' a type that cannot be read (it concerns every reader of the key). A member is partition|offset|seq|eventId:
-- seq (the entry's score in the eventId index) tells apart two texts at one offset.
local keyClasses = { UserCreated = 'u', OrderPlaced = 'o', PaymentSettled = 'p', InventoryAdjusted = 'i' }
-- The summary's set, its name in '<prefix>keys:<gen>', the score and the member of an entry; nil when the entry
-- is no record of the log (no coordinates: the producer refused it) or has no key a reader could ask for.
local function keyPlaceOf(prefix, gen, letter, seq)
  if type(letter) ~= 'table' then return nil end
  local key, partition, offset = letter.key, letter.partition, letter.offset
  if type(key) ~= 'string' or key == '' or string.len(key) > 400 then return nil end
  if type(partition) ~= 'number' or partition < 0 or partition % 1 ~= 0 then return nil end
  if type(offset) ~= 'string' or not string.match(offset, '^%d+$') then return nil end
  if type(letter.topic) ~= 'string' then return nil end
  local name = (keyClasses[typeOfLetter(letter)] or '?') .. ':' .. key
  local eventId = ''
  if type(letter.eventId) == 'string' then eventId = letter.eventId end
  local member = string.format('%d', partition) .. '|' .. offset .. '|' .. string.format('%.0f', tonumber(seq)) .. '|' .. eventId
  return prefix .. 'key:' .. gen .. ':' .. name, name, offset, member
end
local function keyAdd(prefix, gen, letter, seq)
  local set, name, offset, member = keyPlaceOf(prefix, gen, letter, seq)
  if not set then return end
  redis.call('ZADD', set, offset, member)
  redis.call('SADD', prefix .. 'keys:' .. gen, name)
end
local function keyRemove(prefix, gen, letter, seq)
  local set, name, _, member = keyPlaceOf(prefix, gen, letter, seq)
  if not set then return end
  if redis.call('ZREM', set, member) == 1 and redis.call('ZCARD', set) == 0 then
    redis.call('SREM', prefix .. 'keys:' .. gen, name)
  end
end
local function indexAdd(prefix, gen, eventId, entry, score, letter)
  if redis.call('ZADD', setOf(prefix, gen, eventId), 'NX', score, entry) == 0 then
    redis.call('HINCRBY', prefix .. 'dup:' .. gen, entry, 1)
  else
    keyAdd(prefix, gen, letter, score)
  end
  if eventId ~= '' then redis.call('SADD', prefix .. 'evs:' .. gen, eventId) end
end
-- Takes the entry's text out of the eventId set and the key summary (ZREM is the text's last copy going).
local function indexForget(prefix, gen, eventId, entry, letter)
  local set = setOf(prefix, gen, eventId)
  redis.call('HDEL', prefix .. 'dup:' .. gen, entry)
  local seq = redis.call('ZSCORE', set, entry)
  if not seq then return end
  redis.call('ZREM', set, entry)
  keyRemove(prefix, gen, letter, seq)
  if eventId ~= '' and redis.call('ZCARD', set) == 0 then redis.call('SREM', prefix .. 'evs:' .. gen, eventId) end
end
local function indexRemove(prefix, gen, eventId, entry, letter)
  local dups = prefix .. 'dup:' .. gen
  local extra = tonumber(redis.call('HGET', dups, entry) or '0')
  if extra > 1 then redis.call('HINCRBY', dups, entry, -1)
  elseif extra == 1 then redis.call('HDEL', dups, entry)
  else indexForget(prefix, gen, eventId, entry, letter) end
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
      -- Then the key summary's sets, as many as the budget left (at least one, so every call gets on).
      local names = redis.call('SPOP', prefix .. 'keys:' .. gen, math.max(1, budget))
      for _, name in ipairs(names) do redis.call('UNLINK', prefix .. 'key:' .. gen .. ':' .. name) end
      budget = budget - #names
      if redis.call('SCARD', prefix .. 'keys:' .. gen) == 0 then
        redis.call('UNLINK', prefix .. 'dup:' .. gen, prefix .. 'noid:' .. gen)
        redis.call('RPOP', stale)
      end
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
  if redis.call('EXISTS', prefix .. 'evs:' .. gen, prefix .. 'dup:' .. gen, prefix .. 'noid:' .. gen, prefix .. 'keys:' .. gen) > 0 then
    redis.call('LPUSH', prefix .. 'stale', gen)
  end
end
