-- KEYS[1] a lease, ARGV[1] its owner's token: gives the lease up only while the token holds it.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
