-- KEYS[1] the store's rebuild hash. ARGV[1] the states after which a new rebuild may begin (space-separated),
-- ARGV[2] when (ISO-8601). Begins a rebuild only while none is under way: returns {id} (the next number of the
-- store's rebuilds), or {0, state, id} of the rebuild that is. The hash keeps its counters (seq, fence) and
-- starts over otherwise, in state `creating`.
local state = redis.call('HGET', KEYS[1], 'state')
if state then
  local free = false
  for s in string.gmatch(ARGV[1], '%S+') do
    if s == state then free = true end
  end
  if not free then return {0, state, redis.call('HGET', KEYS[1], 'id') or ''} end
end
local id = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local fence = redis.call('HGET', KEYS[1], 'fence') or '0'
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'seq', id, 'fence', fence, 'id', id, 'state', 'creating', 'updatedAt', ARGV[2])
return {id}
