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
import type { RedisClient as Redis } from '../dlq/index.ts'
import { claimsKeyOf, jobKeyOf, jobsKeyOf, leaseKeyOf } from '../redis/keys.ts'
import { luaScript } from '../redis/scripts.ts'
import { type DlqFilter, UsageError } from './filter.ts'
import { LeaseLost } from './lease.ts'
import type { JobEntry, Tallied } from './redrive-plan.ts'

// The scripts of src/redis/lua/ this store runs (each says its keys and arguments).
const createLua = luaScript('redrive-create')
const acquireLua = luaScript('lease-acquire')
const fencedWriteLua = luaScript('redrive-fenced-write')
const releaseLua = luaScript('redrive-release-claims')
const renewLua = luaScript('lease-renew')
const dropLua = luaScript('lease-drop')

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

// Every key shares the DLQ list's hash tag (src/redis/keys.ts): one slot on a Redis Cluster, so the scripts that
// claim entries and remove them may touch the list, the index and the claims together.
export { claimsKeyOf, jobKeyOf, jobsKeyOf, leaseKeyOf } from '../redis/keys.ts'
export const claimOf = (entry: string) => createHash('sha256').update(entry).digest('hex')

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
  return new RedisJobStore(redis, key)
}

const digestsOf = (job: JobEntry) => job.entries.map(claimOf)

/** The jobs of the DLQ named `key`, in the Redis keys the top of this module lists. */
class RedisJobStore implements JobStore {
  readonly #redis: Redis
  readonly #key: string

  constructor(redis: Redis, key: string) {
    this.#redis = redis
    this.#key = key
  }

  /** Deletes finished jobs created before the retention, a bounded number per call; open jobs are kept. */
  async #prune(now: number): Promise<void> {
    const redis = this.#redis
    const jobs = jobsKeyOf(this.#key)
    const old = await redis.zrangebyscore(jobs, '-inf', now - finishedJobRetentionMs, 'LIMIT', 0, 100)
    for (const id of old) {
      const state = await redis.hget(jobKeyOf(this.#key, id), 'state')
      if (state === 'running' || state === 'failed') continue
      await redis.multi().del(jobKeyOf(this.#key, id)).zrem(jobs, id).exec()
    }
  }

  async #fencedWrite(id: string, lease: Lease, drop: readonly string[], set: readonly string[]): Promise<void> {
    const args = [lease.owner, String(lease.fence), String(drop.length), ...drop, ...set]
    const keys = [leaseKeyOf(this.#key, id), jobKeyOf(this.#key, id)]
    const done = await confirmed(id, this.#redis.eval(fencedWriteLua, 2, ...keys, ...args))
    if (done !== 1) throw new LeaseLost(id, refused)
  }

  async create(meta: JobMeta, entries: readonly JobEntry[]): Promise<number[]> {
    await this.#prune(Date.parse(meta.createdAt))
    const args: string[] = []
    for (const e of entries) args.push(digestsOf(e).join(' '), JSON.stringify(e))
    const skipped = (await this.#redis.eval(
      createLua,
      3,
      jobKeyOf(this.#key, meta.id),
      claimsKeyOf(this.#key),
      jobsKeyOf(this.#key),
      meta.id,
      JSON.stringify(meta),
      String(Date.parse(meta.createdAt)),
      meta.createdAt,
      ...args,
    )) as number[]
    return skipped.map(p => (entries[p - 1] as JobEntry).n)
  }

  async load(id: string): Promise<Job | undefined> {
    const hash = await this.#redis.hgetall(jobKeyOf(this.#key, id))
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
  }

  async status(id: string): Promise<JobStatus | undefined> {
    const fields = ['meta', 'state', 'startedAt', 'finishedAt', 'error', 'total', 'tally'] as const
    const [meta, state, startedAt, finishedAt, error, total, tally] = await this.#redis.hmget(
      jobKeyOf(this.#key, id),
      ...fields,
    )
    if (meta === null) return undefined
    return statusOf(id, { state, startedAt, finishedAt, error, total, tally })
  }

  async save(id: string, lease: Lease, entries: readonly JobEntry[], tally: Tallied): Promise<void> {
    const fields: string[] = ['tally', JSON.stringify(tally)]
    for (const e of entries) fields.push(`e:${e.n}`, JSON.stringify(e))
    await this.#fencedWrite(id, lease, [], fields)
  }

  async finish(id: string, lease: Lease, state: Exclude<JobState, 'running'>, error?: string): Promise<void> {
    const fields = ['state', state, 'finishedAt', new Date().toISOString()]
    if (error !== undefined) fields.push('error', error.slice(0, 1000))
    await this.#fencedWrite(id, lease, [], fields)
  }

  async requestCancel(id: string): Promise<void> {
    await this.#redis.hset(jobKeyOf(this.#key, id), 'cancel', '1')
  }

  async cancelRequested(id: string): Promise<boolean> {
    return (await this.#redis.hget(jobKeyOf(this.#key, id), 'cancel')) !== null
  }

  async reopen(id: string, lease: Lease): Promise<void> {
    await this.#fencedWrite(id, lease, ['error', 'finishedAt'], ['state', 'running'])
  }

  async lease(id: string, token: string, ms: number): Promise<Lease | undefined> {
    const keys = [leaseKeyOf(this.#key, id), jobKeyOf(this.#key, id)]
    const fence = Number(await this.#redis.eval(acquireLua, 2, ...keys, token, String(ms)))
    if (fence === -1) throw new UsageError(`no redrive job ${id}`)
    return fence > 0 ? { fence, owner: `${fence} ${token}` } : undefined
  }

  async renew(id: string, lease: Lease, ms: number): Promise<boolean> {
    return (await this.#redis.eval(renewLua, 1, leaseKeyOf(this.#key, id), lease.owner, String(ms))) === 1
  }

  async release(id: string, lease: Lease): Promise<void> {
    await this.#redis.eval(dropLua, 1, leaseKeyOf(this.#key, id), lease.owner)
  }

  async leaseLeft(id: string): Promise<number> {
    return Math.max(0, await this.#redis.pttl(leaseKeyOf(this.#key, id)))
  }

  async releaseClaims(id: string, lease: Lease, entries: readonly JobEntry[]): Promise<void> {
    const digests = entries.flatMap(digestsOf)
    const keys = [claimsKeyOf(this.#key), leaseKeyOf(this.#key, id), jobKeyOf(this.#key, id)]
    for (let i = 0; i < digests.length; i += 1000) {
      const call = this.#redis.eval(
        releaseLua,
        3,
        ...keys,
        id,
        lease.owner,
        String(lease.fence),
        ...digests.slice(i, i + 1000),
      )
      if ((await confirmed(id, call)) !== 1) throw new LeaseLost(id, refused)
    }
  }

  async unfinished(max = 100): Promise<string[]> {
    const ids = await this.#redis.zrange(jobsKeyOf(this.#key), '0', '-1')
    const open: string[] = []
    for (const id of ids) {
      const state = await this.#redis.hget(jobKeyOf(this.#key, id), 'state')
      if (state === 'running' || state === 'failed') open.push(id)
      if (open.length >= max) break
    }
    return open
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
