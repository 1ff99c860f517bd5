// Redrive jobs in Redis, so that a redrive killed half-way is completed by the next run, never repeated:
//   {<DLQ_KEY>}:redrive:<id>        hash: meta (what was asked, by whom), state, times, tally, cancel, and one
//                                   field e:<n> per entry (its DLQ text, target, state, mark, offset)
//   {<DLQ_KEY>}:redrive:<id>:lease  the run that owns the job now (expires unless renewed: a killed run frees it)
//   {<DLQ_KEY>}:redrives            sorted set of job ids by creation time
//   {<DLQ_KEY>}:redrive:claims      hash sha256(entry) → job id: an entry belongs to at most one open job, so
//                                   two redrives running at once never both send it
import { createHash } from 'node:crypto'
import { companionKey, type RedisClient as Redis } from '../dlq/index.ts'
import type { DlqFilter } from './filter.ts'
import type { JobEntry, Tallied } from './redrive-plan.ts'

export type JobState = 'running' | 'done' | 'failed' | 'cancelled'

export interface JobMeta {
  readonly id: string
  readonly who: string
  readonly createdAt: string
  readonly filter: DlqFilter
  readonly to?: string
  readonly rate?: number
  readonly limit?: number
  readonly fixed?: true
}

export interface JobStatus {
  readonly id: string
  readonly state: JobState
  readonly total: number
  readonly sent: number
  readonly failed: number
  readonly startedAt: string
  readonly finishedAt: string | null
  readonly error?: string
}

export interface Job extends JobStatus {
  readonly meta: JobMeta
  readonly entries: JobEntry[]
  readonly cancelRequested: boolean
}

/** Most entries one job may hold: its snapshot lives in Redis next to the DLQ. */
export const jobMaxEntries = 100_000
/** Finished jobs are kept this long for `GET /admin/dlq/redrives/:id`, then deleted when a new job is created. */
export const finishedJobRetentionMs = 7 * 24 * 3600 * 1000

// Every key shares the DLQ list's hash tag (dlq/keys.ts): one slot on a Redis Cluster, so the scripts that
// claim entries and remove them may touch the list, the index and the claims together.
export const jobKeyOf = (key: string, id: string) => companionKey(key, `redrive:${id}`)
export const leaseKeyOf = (key: string, id: string) => companionKey(key, `redrive:${id}:lease`)
export const jobsKeyOf = (key: string) => companionKey(key, 'redrives')
export const claimsKeyOf = (key: string) => companionKey(key, 'redrive:claims')
export const claimOf = (entry: string) => createHash('sha256').update(entry).digest('hex')

/**
 * KEYS[1] the job, KEYS[2] the claims, KEYS[3] the job index. ARGV[1] id, ARGV[2] meta, ARGV[3] now (ms), ARGV[4]
 * started-at text, then one (claims, entry JSON) pair per entry, claims being the space-separated digests of its
 * DLQ texts. An entry any of whose texts another open job claims is left out. Returns the numbers (1-based
 * positions in ARGV order) of the entries left out. One script, so a crash never leaves a claim without its job.
 */
const createLua = `
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
`

/** KEYS[1] the claims. ARGV[1] the job id, then digests: each claim still held by that job is dropped. */
const releaseLua = `
for i = 2, #ARGV do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[1] then redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return 1
`

/** KEYS[1] the lease. ARGV[1] the owner's token, ARGV[2] ms: renews the lease only while the token holds it. */
const renewLua = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`
const dropLua = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`

export interface JobStore {
  /** Stores the job with the entries no other open job claims; resolves the numbers of those it left out. */
  create(meta: JobMeta, entries: readonly JobEntry[]): Promise<number[]>
  load(id: string): Promise<Job | undefined>
  status(id: string): Promise<JobStatus | undefined>
  /** Writes the entries' new states and the job's tally in one step. */
  save(id: string, entries: readonly JobEntry[], tally: Tallied): Promise<void>
  finish(id: string, state: Exclude<JobState, 'running'>, error?: string): Promise<void>
  requestCancel(id: string): Promise<void>
  cancelRequested(id: string): Promise<boolean>
  /** A failed job being resumed is running again. */
  reopen(id: string): Promise<void>
  /** Takes the job's lease for `ms` unless another run holds it; resolves whether it was taken. */
  lease(id: string, token: string, ms: number): Promise<boolean>
  renew(id: string, token: string, ms: number): Promise<boolean>
  release(id: string, token: string): Promise<void>
  /** How long another run still holds the lease, in ms (0 when free). */
  leaseLeft(id: string): Promise<number>
  releaseClaims(id: string, entries: readonly JobEntry[]): Promise<void>
  /** Ids of jobs not finished (running, or failed and resumable), oldest first, at most `max`. */
  unfinished(max?: number): Promise<string[]>
}

export function createJobStore(redis: Redis, key: string): JobStore {
  const digestsOf = (job: JobEntry) => job.entries.map(claimOf)
  /** Deletes finished jobs created before the retention, a bounded number per call; open jobs are kept. */
  async function prune(now: number): Promise<void> {
    const old = await redis.zrangebyscore(jobsKeyOf(key), '-inf', now - finishedJobRetentionMs, 'LIMIT', 0, 100)
    for (const id of old) {
      const state = await redis.hget(jobKeyOf(key, id), 'state')
      if (state === 'running' || state === 'failed') continue
      await redis.multi().del(jobKeyOf(key, id)).zrem(jobsKeyOf(key), id).exec()
    }
  }
  return {
    async create(meta, entries) {
      await prune(Date.parse(meta.createdAt))
      const args: string[] = []
      for (const e of entries) args.push(digestsOf(e).join(' '), JSON.stringify(e))
      const skipped = (await redis.eval(
        createLua,
        3,
        jobKeyOf(key, meta.id),
        claimsKeyOf(key),
        jobsKeyOf(key),
        meta.id,
        JSON.stringify(meta),
        String(Date.parse(meta.createdAt)),
        meta.createdAt,
        ...args,
      )) as number[]
      return skipped.map(p => (entries[p - 1] as JobEntry).n)
    },
    async load(id) {
      const hash = await redis.hgetall(jobKeyOf(key, id))
      if (hash['meta'] === undefined) return undefined
      const entries: JobEntry[] = []
      for (const [field, value] of Object.entries(hash)) {
        if (field.startsWith('e:')) entries.push(JSON.parse(value) as JobEntry)
      }
      entries.sort((a, b) => a.n - b.n)
      return {
        ...statusOf(id, hash),
        meta: JSON.parse(hash['meta']) as JobMeta,
        entries,
        cancelRequested: !!hash['cancel'],
      }
    },
    async status(id) {
      const [meta, state, startedAt, finishedAt, error, total, tally] = await redis.hmget(
        jobKeyOf(key, id),
        'meta',
        'state',
        'startedAt',
        'finishedAt',
        'error',
        'total',
        'tally',
      )
      if (meta === null) return undefined
      return statusOf(id, { state, startedAt, finishedAt, error, total, tally })
    },
    async save(id, entries, tally) {
      const fields: string[] = ['tally', JSON.stringify(tally)]
      for (const e of entries) fields.push(`e:${e.n}`, JSON.stringify(e))
      await redis.hset(jobKeyOf(key, id), ...fields)
    },
    async finish(id, state, error) {
      const fields = ['state', state, 'finishedAt', new Date().toISOString()]
      if (error !== undefined) fields.push('error', error.slice(0, 1000))
      await redis.hset(jobKeyOf(key, id), ...fields)
    },
    async requestCancel(id) {
      await redis.hset(jobKeyOf(key, id), 'cancel', '1')
    },
    async cancelRequested(id) {
      return (await redis.hget(jobKeyOf(key, id), 'cancel')) !== null
    },
    async reopen(id) {
      await redis.hset(jobKeyOf(key, id), 'state', 'running')
      await redis.hdel(jobKeyOf(key, id), 'error', 'finishedAt')
    },
    async lease(id, token, ms) {
      return (await redis.set(leaseKeyOf(key, id), token, 'PX', ms, 'NX')) === 'OK'
    },
    async renew(id, token, ms) {
      return (await redis.eval(renewLua, 1, leaseKeyOf(key, id), token, String(ms))) === 1
    },
    async release(id, token) {
      await redis.eval(dropLua, 1, leaseKeyOf(key, id), token)
    },
    async leaseLeft(id) {
      return Math.max(0, await redis.pttl(leaseKeyOf(key, id)))
    },
    async releaseClaims(id, entries) {
      const digests = entries.flatMap(digestsOf)
      for (let i = 0; i < digests.length; i += 1000) {
        await redis.eval(releaseLua, 1, claimsKeyOf(key), id, ...digests.slice(i, i + 1000))
      }
    },
    async unfinished(max = 100) {
      const ids = await redis.zrange(jobsKeyOf(key), '0', '-1')
      const open: string[] = []
      for (const id of ids) {
        const state = await redis.hget(jobKeyOf(key, id), 'state')
        if (state === 'running' || state === 'failed') open.push(id)
        if (open.length >= max) break
      }
      return open
    },
  }
}

function statusOf(id: string, hash: Record<string, string | null | undefined>): JobStatus {
  const tally = hash['tally'] ? (JSON.parse(hash['tally']) as Tallied) : undefined
  const status: JobStatus = {
    id,
    state: (hash['state'] ?? 'running') as JobState,
    total: Number(hash['total'] ?? 0),
    sent: tally?.sent ?? 0,
    failed: tally?.failed ?? 0,
    startedAt: hash['startedAt'] ?? '',
    finishedAt: hash['finishedAt'] ?? null,
  }
  return hash['error'] ? { ...status, error: hash['error'] } : status
}
