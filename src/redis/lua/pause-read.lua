-- KEYS[1] the pause record (hash), KEYS[2] the members' reports (hash). ARGV[1] most reports answered. Answers
-- { record or nil, the Redis clock (ms), report, report, … }: the fresh reports only, at most ARGV[1] of them;
-- expired ones are deleted on the way (a member that stopped reporting has left or stalled).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local max = tonumber(ARGV[1])
local answer = { redis.call('HGET', KEYS[1], 'record'), tostring(now) }
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all, 2 do
  local value = all[i + 1]
  local bar = string.find(value, '|', 1, true)
  local expires = bar and tonumber(string.sub(value, 1, bar - 1)) or 0
  if expires <= now then
    redis.call('HDEL', KEYS[2], all[i])
  elseif #answer - 2 < max then
    answer[#answer + 1] = string.sub(value, bar + 1)
  end
end
return answer
