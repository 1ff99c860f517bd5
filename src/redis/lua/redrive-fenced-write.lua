-- KEYS[1] the lease, KEYS[2] the job. ARGV[1] the lease's value, ARGV[2] the fence, ARGV[3] how many fields to
-- delete, those fields, then field/value pairs to set. Returns 1, or 0 (nothing written) when fenced off.
--@include redrive-fence
if not fenced(KEYS[1], KEYS[2], ARGV[1], ARGV[2]) then return 0 end
local k = tonumber(ARGV[3])
if k > 0 then redis.call('HDEL', KEYS[2], unpack(ARGV, 4, 3 + k)) end
for j = 4 + k, #ARGV, 1000 do redis.call('HSET', KEYS[2], unpack(ARGV, j, math.min(j + 999, #ARGV))) end
return 1
