-- KEYS[1] the pause record (hash), KEYS[2] the members' reports (hash). ARGV[1] the member id, ARGV[2] its report
-- (JSON), ARGV[3] how long the report is fresh (ms), ARGV[4] how long the reports' hash lives without a write
-- (ms). One member's poll: stores its report with the time it stops being fresh, on the Redis clock (members'
-- clocks may differ; this one is shared), and answers the record it must obey (nil when nothing was ever paused).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[2], ARGV[1], (now + tonumber(ARGV[3])) .. '|' .. ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return redis.call('HGET', KEYS[1], 'record')
