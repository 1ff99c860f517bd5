-- KEYS[1] the list, KEYS[2] the meta hash, KEYS[3] the claims of open redrives (hash: digest → job). ARGV[1]
-- '1' to leave claimed entries alone (a purge), ARGV[2] the work budget (list elements LREM may pass), then
-- (entry, digest) pairs. Removes one occurrence of each entry from the list, scanning from the end nearer to it
-- (known from its push sequence; the newest copy of a text held more than once), and from the index and the
-- counters. Stops once the budget is spent (after at least one entry), so one call holds Redis for a bounded
-- time: returns one result per entry it got to (1 removed, 0 not in the list, 2 held by a redrive); the caller
-- sends the rest again. Returns {-1} while the index is being rebuilt: removals wait for it (src/dlq/by-event.ts).
--@include dlq-common
local meta, prefix = KEYS[2], prefixOf(KEYS[2])
local m = redis.call('HMGET', meta, 'gen', 'indexed', 'seq', 'rm')
local length = redis.call('LLEN', KEYS[1])
if m[2] ~= '1' and length > 0 then return {-1} end
local gen, seq, removedBefore = m[1] or '0', tonumber(m[3]) or 0, tonumber(m[4]) or 0
local budget, spent, removed, results = tonumber(ARGV[2]), 0, 0, {}
for i = 3, #ARGV, 2 do
  if spent >= budget and #results > 0 then break end
  local entry = ARGV[i]
  if ARGV[1] == '1' and redis.call('HEXISTS', KEYS[3], ARGV[i + 1]) == 1 then
    results[#results + 1] = 2
  else
    local eventId, source, letter = eventIdOf(entry)
    local set = setOf(prefix, gen, eventId)
    -- Upper bounds of the entry's distance from the head and from the tail. seq - score entries were pushed
    -- after it; at most 'rm' (removals in this generation) of them are gone. Entries pushed by hand are not
    -- counted: they can only make a scan longer, never a removal wrong.
    local last = length - 1
    local fromHead, fromTail = last, last
    local score = redis.call('ZSCORE', set, entry)
    if score then
      local after = math.max(0, seq - tonumber(score))
      fromHead = math.min(after, last)
      fromTail = math.max(0, last - math.max(0, after - removedBefore - removed))
    end
    -- LREM scans from the end with the smaller bound. A text held more than once sits in the index where its
    -- oldest copy is: the newest copy goes, from the head.
    local direction, cost = 1, fromHead
    if fromTail < fromHead then direction, cost = -1, fromTail end
    if direction == -1 and redis.call('HEXISTS', prefix .. 'dup:' .. gen, entry) == 1 then
      direction, cost = 1, fromHead
    end
    spent = spent + math.max(1, cost)
    local n = redis.call('LREM', KEYS[1], direction, entry)
    if n > 0 then
      length = length - 1
      removed = removed + 1
      indexRemove(prefix, gen, eventId, entry, letter)
      count(meta, source, -1, -string.len(entry))
      tally(prefix, letter, -1)
    elseif score then
      -- Not in the list (removed by hand): nothing of it may stay in the index either.
      indexForget(prefix, gen, eventId, entry, letter)
    end
    results[#results + 1] = n
  end
end
if removed > 0 then redis.call('HINCRBY', meta, 'rm', removed) end
return results
