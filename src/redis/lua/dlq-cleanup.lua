-- KEYS[1] the meta hash. ARGV[1] how many sets to delete. Deletes sets of abandoned generations (what a rebuild
-- or an emptied list left behind); returns how many generations are still to delete.
--@include dlq-common
local prefix = prefixOf(KEYS[1])
cleanup(prefix, tonumber(ARGV[1]))
return redis.call('LLEN', prefix .. 'stale')
