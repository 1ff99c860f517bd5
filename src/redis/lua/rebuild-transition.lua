-- KEYS[1] the store's rebuild hash. ARGV[1] the rebuild's id, ARGV[2] the new state ('' keeps the state), ARGV[3]
-- the states it may follow (space-separated), ARGV[4..] field/value pairs written with it. Writes only for that
-- rebuild, and moves the state only from one it may follow: returns 1, or the state it found ('' when there is
-- no such rebuild, or it is another).
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return '' end
local state = redis.call('HGET', KEYS[1], 'state') or ''
local allowed = ARGV[2] == ''
for s in string.gmatch(ARGV[3], '%S+') do
  if s == state then allowed = true end
end
if not allowed then return state end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'state', ARGV[2]) end
if #ARGV > 3 then redis.call('HSET', KEYS[1], unpack(ARGV, 4)) end
return 1
