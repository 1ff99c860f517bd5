-- KEYS[1] the claims, KEYS[2] the lease, KEYS[3] the job. ARGV[1] the job id, ARGV[2] the lease's value, ARGV[3]
-- the fence, then digests: each claim still held by that job is dropped. Returns 0 when fenced off.
--@include redrive-fence
if not fenced(KEYS[2], KEYS[3], ARGV[2], ARGV[3]) then return 0 end
for i = 4, #ARGV do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[1] then redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return 1
