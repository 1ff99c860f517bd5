-- KEYS[1] the list, KEYS[2] the seen-set, KEYS[3] the meta hash. ARGV[1] max age of a seen member (ms), ARGV[2]
-- most members kept, ARGV[3] the writer ('consumer' or 'producer'), ARGV[4] its most entries, ARGV[5] its most
-- bytes, then one (id, eventId, entry) triple per dead letter, oldest first. An empty id means "no coordinates":
-- never taken for a repeat; an empty eventId: kept only in the generation's set of entries without one. Returns {pushed, refused}: refused is '' when every
-- new entry fit, else the cap that stopped the call ('entries' or 'bytes'), and then the entries from the first
-- that did not fit on were not pushed (nor remembered as seen). Trims the seen-set after adding, so it never
-- passes its cap between calls.
--@include dlq-common
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
    redis.call('HSET', meta, 'gen', gen, 'indexed', '1', 'ks', '1', 'rm', 0, 'ce', 0, 'cb', 0, 'pe', 0, 'pb', 0)
    redis.call('HDEL', meta, 'rebuilt', 'target', 'base')
    redis.call('DEL', prefix .. 'tally')
  end
  local last = redis.call('HINCRBY', meta, 'seq', #texts)
  for n, text in ipairs(texts) do
    local _, _, letter = eventIdOf(text)
    indexAdd(prefix, gen, eventIds[n], text, last - #texts + n, letter)
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
