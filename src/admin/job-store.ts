// Redrive jobs in Redis, so that a redrive killed half-way is completed by the next run, never repeated:
//   {<DLQ_KEY>}:redrive:<id>        hash: meta (what was asked, by whom), state, times, tally, cancel, fence
//                                   (the number of the latest run to take the job), and one field e:<n> per
//                                   entry (its DLQ text, target, state, mark, offset)
//   {<DLQ_KEY>}:redrive:<id>:lease  `<fence> <token>` of the run that owns the job now (expires unless renewed:
//                                   a killed or cut-off run frees it)
//   {<DLQ_KEY>}:redrives            sorted set of job ids by creation time
//   {<DLQ_KEY>}:redrive:claims      hash sha256(entry) → job id: an entry belongs to at most one open job, so
//                                   two redrives running at once never both send it
import { createHash } from 'node:crypto'
import { companionKey, type RedisClient as Redis } from '../dlq/index.ts'
import { type DlqFilter, UsageError } from './filter.ts'
import { LeaseLost } from './lease.ts'
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

/**
 * KEYS[1] the lease, KEYS[2] the job. ARGV[1] the run's token, ARGV[2] ms. Takes a free lease for a job that
 * exists: draws the next fencing number from the job and stores `<fence> <token>` as the lease; returns the fence,
 * 0 when another run holds the lease, -1 when there is no such job.
 */
const acquireLua = `
if redis.call('HEXISTS', KEYS[2], 'meta') == 0 then return -1 end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local fence = redis.call('HINCRBY', KEYS[2], 'fence', 1)
redis.call('SET', KEYS[1], fence .. ' ' .. ARGV[1], 'PX', ARGV[2])
return fence
`

/**
 * The fence every write of a run passes: its lease must still be the job's lease, and its number the job's latest.
 * Refused when another run took the job over, or when the run's lease expired, even if nobody took it since.
 */
const fenceLua = `
local function fenced(lease, job, owner, fence)
  return redis.call('GET', lease) == owner and redis.call('HGET', job, 'fence') == fence
end
`

/**
 * KEYS[1] the lease, KEYS[2] the job. ARGV[1] the lease's value, ARGV[2] the fence, ARGV[3] how many fields to
 * delete, those fields, then field/value pairs to set. Returns 1, or 0 (nothing written) when fenced off.
 */
const fencedWriteLua = `${fenceLua}
if not fenced(KEYS[1], KEYS[2], ARGV[1], ARGV[2]) then return 0 end
local k = tonumber(ARGV[3])
if k > 0 then redis.call('HDEL', KEYS[2], unpack(ARGV, 4, 3 + k)) end
for j = 4 + k, #ARGV, 1000 do redis.call('HSET', KEYS[2], unpack(ARGV, j, math.min(j + 999, #ARGV))) end
return 1
`

/**
 * KEYS[1] the claims, KEYS[2] the lease, KEYS[3] the job. ARGV[1] the job id, ARGV[2] the lease's value, ARGV[3]
 * the fence, then digests: each claim still held by that job is dropped. Returns 0 when fenced off.
 */
const releaseLua = `${fenceLua}
if not fenced(KEYS[2], KEYS[3], ARGV[2], ARGV[3]) then return 0 end
for i = 4, #ARGV do
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

const refused = 'a write was refused: another run took the job over, or the lease expired'

/**
 * A fenced write that failed (Redis unreachable, timed out) may yet be applied, or refused, later: the run can no
 * longer tell whether it holds the job, and stops as a run whose write was refused does.
 */
async function confirmed(id: string, write: Promise<unknown>): Promise<unknown> {
  try {
    return await write
  } catch (error) {
    throw new LeaseLost(id, `a write was not confirmed: ${(error as Error).message}`)
  }
}

/** A run's hold on a job: the fencing number its acquisition drew, and the lease's value while it holds it. */
export interface Lease {
  readonly fence: number
  readonly owner: string
}

export interface JobStore {
  /** Stores the job with the entries no other open job claims; resolves the numbers of those it left out. */
  create(meta: JobMeta, entries: readonly JobEntry[]): Promise<number[]>
  load(id: string): Promise<Job | undefined>
  status(id: string): Promise<JobStatus | undefined>
  // The writes of a run are fenced by its lease: each throws LeaseLost, having written nothing, once the lease is
  // no longer the run's.
  /** Writes the entries' new states and the job's tally in one step. */
  save(id: string, lease: Lease, entries: readonly JobEntry[], tally: Tallied): Promise<void>
  finish(id: string, lease: Lease, state: Exclude<JobState, 'running'>, error?: string): Promise<void>
  /** A failed job being resumed is running again. */
  reopen(id: string, lease: Lease): Promise<void>
  releaseClaims(id: string, lease: Lease, entries: readonly JobEntry[]): Promise<void>
  requestCancel(id: string): Promise<void>
  cancelRequested(id: string): Promise<boolean>
  /**
   * Takes the job's lease for `ms` unless another run holds it, with the job's next fencing number; resolves it,
   * or undefined when another run holds it. Throws UsageError when there is no such job.
   */
  lease(id: string, token: string, ms: number): Promise<Lease | undefined>
  /** Extends the lease while it is still `lease`; resolves whether it was. */
  renew(id: string, lease: Lease, ms: number): Promise<boolean>
  release(id: string, lease: Lease): Promise<void>
  /** How long another run still holds the lease, in ms (0 when free). */
  leaseLeft(id: string): Promise<number>
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
  async function fencedWrite(id: string, lease: Lease, drop: readonly string[], set: readonly string[]) {
    const args = [lease.owner, String(lease.fence), String(drop.length), ...drop, ...set]
    const done = await confirmed(id, redis.eval(fencedWriteLua, 2, leaseKeyOf(key, id), jobKeyOf(key, id), ...args))
    if (done !== 1) throw new LeaseLost(id, refused)
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
    async save(id, lease, entries, tally) {
      const fields: string[] = ['tally', JSON.stringify(tally)]
      for (const e of entries) fields.push(`e:${e.n}`, JSON.stringify(e))
      await fencedWrite(id, lease, [], fields)
    },
    async finish(id, lease, state, error) {
      const fields = ['state', state, 'finishedAt', new Date().toISOString()]
      if (error !== undefined) fields.push('error', error.slice(0, 1000))
      await fencedWrite(id, lease, [], fields)
    },
    async requestCancel(id) {
      await redis.hset(jobKeyOf(key, id), 'cancel', '1')
    },
    async cancelRequested(id) {
      return (await redis.hget(jobKeyOf(key, id), 'cancel')) !== null
    },
    async reopen(id, lease) {
      await fencedWrite(id, lease, ['error', 'finishedAt'], ['state', 'running'])
    },
    async lease(id, token, ms) {
      const fence = Number(await redis.eval(acquireLua, 2, leaseKeyOf(key, id), jobKeyOf(key, id), token, String(ms)))
      if (fence === -1) throw new UsageError(`no redrive job ${id}`)
      return fence > 0 ? { fence, owner: `${fence} ${token}` } : undefined
    },
    async renew(id, lease, ms) {
      return (await redis.eval(renewLua, 1, leaseKeyOf(key, id), lease.owner, String(ms))) === 1
    },
    async release(id, lease) {
      await redis.eval(dropLua, 1, leaseKeyOf(key, id), lease.owner)
    },
    async leaseLeft(id) {
      return Math.max(0, await redis.pttl(leaseKeyOf(key, id)))
    },
    async releaseClaims(id, lease, entries) {
      const digests = entries.flatMap(digestsOf)
      for (let i = 0; i < digests.length; i += 1000) {
        const done = await confirmed(
          id,
          redis.eval(
            releaseLua,
            3,
            claimsKeyOf(key),
            leaseKeyOf(key, id),
            jobKeyOf(key, id),
            id,
            lease.owner,
            String(lease.fence),
            ...digests.slice(i, i + 1000),
          ),
        )
        if (done !== 1) throw new LeaseLost(id, refused)
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
