-- KEYS[1] the lease, KEYS[2] the job. ARGV[1] the run's token, ARGV[2] ms. Takes a free lease for a job that
-- exists: draws the next fencing number from the job and stores `<fence> <token>` as the lease; returns the fence,
-- 0 when another run holds the lease, -1 when there is no such job.
if redis.call('HEXISTS', KEYS[2], 'meta') == 0 then return -1 end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local fence = redis.call('HINCRBY', KEYS[2], 'fence', 1)
redis.call('SET', KEYS[1], fence .. ' ' .. ARGV[1], 'PX', ARGV[2])
return fence
