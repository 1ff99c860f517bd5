-- KEYS[1] the pause record (hash). ARGV[1] the revision the caller read ('0' for none), ARGV[2] the new revision,
-- ARGV[3] the new record's JSON. Compare and set: writes only when the stored revision is still the one the
-- caller based its change on, so two callers changing the record at once never lose one of the changes (the
-- loser reads again and retries). Returns 1 when written, 0 when the revision moved.
local current = redis.call('HGET', KEYS[1], 'revision') or '0'
if current ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'revision', ARGV[2], 'record', ARGV[3])
return 1
