// Every Redis key of the pipeline, in one place: those of a dead-letter queue and of its admin. The list keeps the name DLQ_KEY says (`dlq:events`,
// the contract: LPUSH newest first, LRANGE to read); every other key of the queue starts with the list's hash
// tag, `{dlq:events}:`, so that on a Redis Cluster all of them live in the list's slot and one script may touch
// them together. A name without braces hashes whole, so `dlq:events` and `{dlq:events}:seen` share a slot; a
// DLQ_KEY that carries its own tag (`{dlq}:events`) keeps it, and its companions use that tag.
//
// The price of one slot: a queue lives on one shard of the cluster. It gains a cluster's failover and runs on
// managed Redis in cluster mode; it does not spread one queue over several shards.

/** The hash tag Redis Cluster reads from `key` (the text between the first '{' and the next '}'), if any. */
export function hashTagOf(key: string): string | undefined {
  const open = key.indexOf('{')
  if (open < 0) return undefined
  const close = key.indexOf('}', open + 1)
  return close > open + 1 ? key.slice(open + 1, close) : undefined
}

/** The prefix every companion key of the list `key` starts with: `{key}:`, or `key:` when key has a tag. */
export function companionPrefixOf(key: string): string {
  return hashTagOf(key) === undefined ? `{${key}}:` : `${key}:`
}

/** A companion key of the list `key`, in its slot: `{dlq:events}:seen`. */
export const companionKey = (key: string, suffix: string) => `${companionPrefixOf(key)}${suffix}`

export interface DlqKeys {
  /** The list of entries, newest first. */
  readonly list: string
  /** The prefix of every other key; the scripts build the eventId index's keys from it (see by-event.ts). */
  readonly prefix: string
  /** Sorted set of the Kafka records the list holds, scored by push time (push-script.ts). */
  readonly seen: string
  /** Hash: index generation, completeness and rebuild progress, push sequence, and the writers' counters. */
  readonly meta: string
  /** Who is rebuilding the eventId index now (a lease: SET NX PX). */
  readonly rebuildLease: string
  /** Hash: entries by error code and by type (`c:<code>`, `t:<type>`), kept by the scripts. */
  readonly tally: string
}

export function dlqKeys(key: string): DlqKeys {
  const prefix = companionPrefixOf(key)
  return {
    list: key,
    prefix,
    seen: `${prefix}seen`,
    meta: `${prefix}meta`,
    rebuildLease: `${prefix}rebuild`,
    tally: `${prefix}tally`,
  }
}

/**
 * Names earlier versions gave the companions, next to the list without a tag. They are moved (seen-set) or
 * dropped (the old index, rebuilt under the new names) on a standalone Redis when a queue is opened; a cluster
 * never held them.
 */
export function legacyKeysOf(key: string) {
  return {
    seen: `${key}:seen`,
    producerCounter: `${key}:producer`,
    index: `${key}:by-event`,
    indexComplete: `${key}:by-event:complete`,
  }
}

// The admin's keys, in the same slot (its scripts claim entries and remove them together with the list's).
/** Hash of one redrive job: its snapshot, states and tally. */
export const jobKeyOf = (key: string, id: string) => companionKey(key, `redrive:${id}`)
/** The lease of the run that holds a job: `<fence> <token>`. */
export const leaseKeyOf = (key: string, id: string) => companionKey(key, `redrive:${id}:lease`)
/** Sorted set of job ids by creation time. */
export const jobsKeyOf = (key: string) => companionKey(key, 'redrives')
/** Hash sha256(entry) → job id of the open job that claims it. */
export const claimsKeyOf = (key: string) => companionKey(key, 'redrive:claims')
/** The bounded audit list, newest first. */
export const auditKeyOf = (key: string) => companionKey(key, 'audit')

// A projection rebuild's keys, in the DLQ's slot (the audit list is there too), one pair per store: `storeId` is
// the store's identity (src/rebuild/store-id.ts), so two pipelines sharing a Redis never share a rebuild.
/** Hash of the store's current rebuild: meta, state, progress, bad records, last verify; seq and fence counters. */
export const rebuildKeyOf = (key: string, storeId: string) => companionKey(key, `projection:${storeId}:rebuild`)
/** The lease of the process that works on the store's rebuild now: `<fence> <token>`. */
export const rebuildLeaseKeyOf = (key: string, storeId: string) =>
  companionKey(key, `projection:${storeId}:rebuild:lease`)
// The pause board of a consumer group (src/consumer/pause-board.ts): the pause record every member obeys and the
// members' acknowledgements, both under one hash tag per group and topic so that one script reads or writes them
// together on a Redis Cluster. They belong to the group, not to a DLQ: every member of the group reads them,
// whatever DLQ_KEY it writes to.
export interface PauseKeys {
  /** Hash: `revision` (a counter) and `record` (the JSON of what is paused, by whom, when and why). */
  readonly record: string
  /** Hash: member id → `<expires at, ms of the Redis clock>|<the member's report as JSON>`. */
  readonly members: string
}

export function pauseKeys(groupId: string, topic: string): PauseKeys {
  const prefix = `{pause:${groupId}:${topic}}:`
  return { record: `${prefix}record`, members: `${prefix}members` }
}
