-- KEYS[1] the list, KEYS[2] the meta hash. ARGV[1] entries per step, ARGV[2] '1' to start a new rebuild even
-- when the index is complete. Starts a rebuild when none runs (a new generation: the current one is retired,
-- the counters start from zero, the entries now in the list are the ones to walk), then indexes the next page
-- of them from the tail, with scores below every later push's. Returns {done (0/1), walked, total}.
--@include dlq-common
local meta, prefix = KEYS[2], prefixOf(KEYS[2])
local m = redis.call('HMGET', meta, 'gen', 'indexed', 'seq', 'rebuilt', 'target', 'base', 'ks')
local gen, walked, target, base = m[1] or '0', tonumber(m[4]), tonumber(m[5]), tonumber(m[6])
-- An index without the key summary ('ks': written by an earlier version) is rebuilt like a missing one.
local complete = m[2] == '1' and m[7] == '1'
if complete and ARGV[2] ~= '1' then return {1, 0, 0} end
if not walked or ARGV[2] == '1' and m[2] == '1' then
  retire(prefix, gen)
  gen = newGeneration()
  walked, target = 0, redis.call('LLEN', KEYS[1])
  base = (tonumber(m[3]) or 0) - target
  redis.call('HSET', meta, 'gen', gen, 'rebuilt', 0, 'target', target, 'base', base, 'ks', '1', 'rm', 0, 'ce', 0, 'cb', 0, 'pe', 0, 'pb', 0)
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
    indexAdd(prefix, gen, eventId, entry, base + k, letter)
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
