-- KEYS[1] the job, KEYS[2] the claims, KEYS[3] the job index. ARGV[1] id, ARGV[2] meta, ARGV[3] now (ms), ARGV[4]
-- started-at text, then one (claims, entry JSON) pair per entry, claims being the space-separated digests of its
-- DLQ texts. An entry any of whose texts another open job claims is left out. Returns the numbers (1-based
-- positions in ARGV order) of the entries left out. One script, so a crash never leaves a claim without its job.
local skipped = {}
local n = 0
local fields = {}
for i = 5, #ARGV, 2 do
  local free = true
  for digest in string.gmatch(ARGV[i], '%S+') do
    local owner = redis.call('HGET', KEYS[2], digest)
    if owner and owner ~= ARGV[1] then free = false end
  end
  local position = (i - 3) / 2
  if free then
    for digest in string.gmatch(ARGV[i], '%S+') do redis.call('HSET', KEYS[2], digest, ARGV[1]) end
    fields[#fields + 1] = 'e:' .. position
    fields[#fields + 1] = ARGV[i + 1]
    n = n + 1
  else
    skipped[#skipped + 1] = position
  end
end
redis.call('HSET', KEYS[1], 'meta', ARGV[2], 'state', 'running', 'startedAt', ARGV[4], 'total', n)
for j = 1, #fields, 1000 do redis.call('HSET', KEYS[1], unpack(fields, j, math.min(j + 999, #fields))) end
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
return skipped
