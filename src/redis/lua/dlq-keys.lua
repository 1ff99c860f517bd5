-- KEYS[1] the list, KEYS[2] the meta hash. ARGV: (class, key, after) triples, one per question: class 'u', 'o',
-- 'p', 'i' or '?' (see keyPlaceOf in dlq-common), key a Kafka key, after an offset ('' for every entry). Returns
-- {state, count, newest, count, newest, …}: state 'ok', or 'rebuilding' alone while the index does not cover the
-- list (a read does not wait for it); per question, how many of the key's summarized entries of that class have an
-- offset greater than after, and the member (partition|offset|seq|eventId) of the one with the greatest offset
-- ('' when count is 0). Each question costs O(log n) in that key's entries; the caller bounds their number.
local meta, prefix = KEYS[2], string.sub(KEYS[2], 1, -5)
local m = redis.call('HMGET', meta, 'gen', 'indexed', 'ks')
local answer = {'ok'}
-- An empty list holds nothing, whatever index a hand deletion left behind (the next push retires it).
local empty = redis.call('LLEN', KEYS[1]) == 0
-- 'ks': the generation keeps the key summary (one an earlier version built does not, and is rebuilt).
if not empty and (m[2] ~= '1' or m[3] ~= '1') then return {'rebuilding'} end
for i = 1, #ARGV, 3 do
  local n, newest = 0, ''
  if not empty then
    local set = prefix .. 'key:' .. (m[1] or '0') .. ':' .. ARGV[i] .. ':' .. ARGV[i + 1]
    if ARGV[i + 2] == '' then n = redis.call('ZCARD', set)
    else n = redis.call('ZCOUNT', set, '(' .. ARGV[i + 2], '+inf') end
    if n > 0 then newest = redis.call('ZREVRANGE', set, 0, 0)[1] end
  end
  answer[#answer + 1] = n
  answer[#answer + 1] = newest
end
return answer
