-- KEYS[1] the list, KEYS[2] the meta hash. ARGV[1] eventId, ARGV[2] the cursor (a score: the page starts past
-- it; '' for the first page), ARGV[3] the page size, ARGV[4] 'desc' (newest first) or 'asc'. Returns
-- {state, total, next, entry, score, entry, score, …}: state 'ok', or 'rebuilding' when the index does not
-- cover the list yet; total the eventId's distinct entries; next the cursor of the next page ('' at the end);
-- each entry with its score (the cursor that continues after it). An entry held twice is returned twice, both
-- copies on one page.
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
