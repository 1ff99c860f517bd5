// The eventId index of the DLQ, and everything that walks the list: removal and the index's rebuild.
//
// One sorted set per eventId, `<prefix>ev:<gen>:<eventId>`, whose members are the exact texts of that eventId's
// entries (LREM needs the text) scored by the entry's push sequence (`seq` in the meta hash, one per entry, so
// newest first is descending score and a page's cursor is a score). Appending is one ZADD, removing one ZREM,
// a page one ZREVRANGEBYSCORE: each costs O(log n) in the eventId's entries, never their total size, so however
// many entries share one eventId (an attacker repeating it), neither pushes nor lookups slow down. Identical
// texts (two refused requests alike to the millisecond) are one member plus a count in `<prefix>dup:<gen>`.
// `<prefix>evs:<gen>` holds the eventIds that have a set, so an abandoned generation can be deleted in steps.
//
// The index is written only by Lua, in the same atomic step as the list. The meta hash says which generation is
// current and whether it covers every entry (`indexed`). A list emptied (by removals or by hand) starts a new
// generation at its next push, the old one queued in `<prefix>stale` and deleted a few sets per push (UNLINK:
// freed off Redis's main thread). A list holding entries the index does not cover (written by an earlier
// version, or `dlq reindex`) is indexed again by the rebuild script, a page of entries per call from the tail
// (oldest) up, so Redis is never held for more than a page; whoever holds the rebuild lease drives it, and
// lookups wait for it. The scripts are src/redis/lua/dlq-*.lua. Removals wait too: a rebuild walks positions counted from the tail, which pushes (at the
// head) do not move but removals would.

/**
 * Entries per rebuild step: small enough that one step holds Redis briefly (docs/performance.md, "The
 * dead-letter queue at a million entries"); each step also deletes up to four times as many sets of the
 * generation it replaces, so the old index is gone a quarter of the way in and memory holds about one index.
 */
export const rebuildPage = 500

/** The page size and the cursor's form are the callers' (see redis.ts); this checks a cursor they were given. */
export function isScoreCursor(cursor: string): boolean {
  return /^-?\d{1,17}$/.test(cursor)
}
