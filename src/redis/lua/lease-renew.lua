-- KEYS[1] the lease. ARGV[1] the owner's token, ARGV[2] ms: renews the lease only while the token holds it.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
