-- KEYS[1] the pause record (hash), KEYS[2] the members' reports (hash). ARGV[1] the member id, ARGV[2] its report
-- (JSON), ARGV[3] how long the report holds (ms). One member's poll: stores its report with an expiry on the
-- Redis clock (members' clocks may differ; this one is shared) and answers the record it must obey (nil when
-- nothing was ever paused). The reports' hash itself expires when no member has written for twice the time.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], (now + ttl) .. '|' .. ARGV[2])
redis.call('PEXPIRE', KEYS[2], ttl * 2)
return redis.call('HGET', KEYS[1], 'record')
