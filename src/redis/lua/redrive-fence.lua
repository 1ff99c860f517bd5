-- The fence every write of a run passes: its lease must still be the job's lease, and its number the job's latest.
-- Refused when another run took the job over, or when the run's lease expired, even if nobody took it since.
local function fenced(lease, job, owner, fence)
  return redis.call('GET', lease) == owner and redis.call('HGET', job, 'fence') == fence
end
