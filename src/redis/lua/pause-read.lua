-- KEYS[1] the pause record (hash), KEYS[2] the members' reports (hash). ARGV[1] most reports answered, ARGV[2]
-- how long after it stopped being fresh a report is kept (ms). Answers { record or nil, the Redis clock (ms),
-- fresh-until, report, fresh-until, report, … }: the caller tells fresh reports from silent ones. Reports silent
-- for longer than ARGV[2] are deleted on the way.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local max = tonumber(ARGV[1])
local forget = tonumber(ARGV[2])
local answer = { redis.call('HGET', KEYS[1], 'record'), tostring(now) }
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all, 2 do
  local value = all[i + 1]
  local bar = string.find(value, '|', 1, true)
  local expires = bar and tonumber(string.sub(value, 1, bar - 1)) or 0
  if expires + forget <= now then
    redis.call('HDEL', KEYS[2], all[i])
  elseif (#answer - 2) / 2 < max then
    answer[#answer + 1] = tostring(expires)
    answer[#answer + 1] = string.sub(value, bar + 1)
  end
end
return answer
