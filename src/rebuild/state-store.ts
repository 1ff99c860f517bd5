// A store's rebuild in Redis, so that the CLI and the admin API (and every consumer process) see and act on the
// same one: one hash per store (src/redis/keys.ts, rebuildKeyOf) and a lease for the process working on it.
//   id, seq          the rebuild's number; the count of the store's rebuilds so far
//   state            see state.ts; changed only by rebuild-transition.lua, which checks the state it leaves
//   meta             what it is: generation, consumer group, topic, who, when, from
//   progress, bad    the fill's last look at its progress, and its bad records (bounded)
//   verify           the last verify's summary; verifying: since when one runs
//   request          `stop`: a swap or an abort asks the process filling the shadow to stop
//   error            why it failed; fence: the lease's fencing number (lease-acquire.lua)
//   oldFrom          after a swap: the live group's commits before it, where a rollback's gap starts
import { connected, type RedisClient as Redis } from '../dlq/index.ts'
import { rebuildKeyOf, rebuildLeaseKeyOf } from '../redis/keys.ts'
import { luaScript } from '../redis/scripts.ts'
import { type BadRecords, noBadRecords } from './bad-records.ts'
import { RebuildError } from './errors.ts'
import type { Progress } from './progress.ts'
import { finishedStates, fromStatesOf, type RebuildState } from './state.ts'

const beginLua = luaScript('rebuild-begin')
const transitionLua = luaScript('rebuild-transition')
const acquireLua = luaScript('lease-acquire')
const renewLua = luaScript('lease-renew')
const dropLua = luaScript('lease-drop')

export interface RebuildMeta {
  readonly id: number
  /** The shadow generation's name in the store. */
  readonly generation: string
  /** The consumer group that fills it. */
  readonly group: string
  readonly topic: string
  readonly by: string
  readonly startedAt: string
  /** The time the fill started from (ISO-8601), or null: from the earliest record. */
  readonly from: string | null
}

export interface TableSummary {
  readonly table: string
  readonly liveRows: number
  readonly shadowRows: number
  readonly liveChecksum: string
  readonly shadowChecksum: string
  readonly differing: number
}

export interface VerifySummary {
  readonly at: string
  readonly by: string
  /** Every table has the same rows and checksum on both sides. */
  readonly matches: boolean
  readonly tables: readonly TableSummary[]
}

export interface RebuildRecord {
  readonly id: number
  readonly state: RebuildState
  readonly updatedAt: string
  readonly meta: RebuildMeta | undefined
  readonly progress: Progress | undefined
  readonly bad: BadRecords
  readonly verify: VerifySummary | undefined
  readonly verifying: string | undefined
  readonly request: 'stop' | undefined
  readonly error: string | undefined
}

const parsed = <T>(text: string | undefined): T | undefined =>
  text === undefined ? undefined : (JSON.parse(text) as T)

export class RebuildStore {
  readonly #redis: Redis
  readonly #key: string
  readonly #lease: string

  /** `dlqKey` is DLQ_KEY (the keys live in its slot), `storeId` the store's identity (store-id.ts). */
  constructor(redis: Redis, dlqKey: string, storeId: string) {
    this.#redis = redis
    this.#key = rebuildKeyOf(dlqKey, storeId)
    this.#lease = rebuildLeaseKeyOf(dlqKey, storeId)
  }

  /** Begins the store's next rebuild (state `creating`); throws RebuildError busy while one is under way. */
  async begin(at: string): Promise<number> {
    await connected(this.#redis)
    const answer = (await this.#redis.eval(beginLua, 1, this.#key, finishedStates.join(' '), at)) as (number | string)[]
    if (Number(answer[0]) > 0) return Number(answer[0])
    throw new RebuildError(
      'busy',
      `rebuild ${answer[2]} of this store is ${answer[1]}: one rebuild at a time (\`rebuild status\` shows it; ` +
        '`rebuild abort` drops it, or `rebuild drop-old` finishes a swapped one)',
    )
  }

  async read(): Promise<RebuildRecord | undefined> {
    await connected(this.#redis)
    const hash = await this.#redis.hgetall(this.#key)
    if (hash['id'] === undefined || hash['state'] === undefined) return undefined
    return {
      id: Number(hash['id']),
      state: hash['state'] as RebuildState,
      updatedAt: hash['updatedAt'] ?? '',
      meta: parsed<RebuildMeta>(hash['meta']),
      progress: parsed<Progress>(hash['progress']),
      bad: parsed<BadRecords>(hash['bad']) ?? noBadRecords,
      verify: parsed<VerifySummary>(hash['verify']),
      verifying: hash['verifying'] || undefined,
      request: hash['request'] === 'stop' ? 'stop' : undefined,
      error: hash['error'] || undefined,
    }
  }

  /**
   * Moves rebuild `id` to `to` (from a state the table allows), writing `fields` with it; throws RebuildError
   * state with the state found otherwise. `to` undefined writes the fields only, in any state of that rebuild.
   */
  async write(id: number, to: RebuildState | undefined, fields: Record<string, string> = {}): Promise<void> {
    await connected(this.#redis)
    const args = [String(id), to ?? '', to === undefined ? '' : fromStatesOf(to).join(' ')]
    for (const [name, value] of Object.entries({ ...fields, updatedAt: new Date().toISOString() })) {
      args.push(name, value)
    }
    const answer = await this.#redis.eval(transitionLua, 1, this.#key, ...args)
    if (answer === 1) return
    throw new RebuildError(
      'state',
      answer === ''
        ? `rebuild ${id} is no longer this store's rebuild`
        : `rebuild ${id} is ${answer}: it cannot become ${to} from there`,
    )
  }

  /** Like write, answering whether it was done instead of throwing. */
  async tryWrite(id: number, to: RebuildState | undefined, fields: Record<string, string> = {}): Promise<boolean> {
    try {
      await this.write(id, to, fields)
      return true
    } catch (error) {
      if (error instanceof RebuildError) return false
      throw error
    }
  }

  /** One field of the current rebuild's hash. */
  async field(name: string): Promise<string | undefined> {
    await connected(this.#redis)
    return (await this.#redis.hget(this.#key, name)) ?? undefined
  }

  async clear(id: number, ...fields: string[]): Promise<void> {
    await connected(this.#redis)
    // Only fields of rebuild `id`: a newer rebuild's are left alone.
    if ((await this.#redis.hget(this.#key, 'id')) === String(id)) await this.#redis.hdel(this.#key, ...fields)
  }

  /**
   * Takes the lease for `ms` unless another process holds it; resolves its value (`<fence> <token>`), or
   * undefined when it is held. The rebuild must have its meta written.
   */
  async lease(token: string, ms: number): Promise<string | undefined> {
    await connected(this.#redis)
    const fence = Number(await this.#redis.eval(acquireLua, 2, this.#lease, this.#key, token, String(ms)))
    if (fence === -1) throw new RebuildError('absent', 'there is no rebuild of this store')
    return fence > 0 ? `${fence} ${token}` : undefined
  }

  async renew(owner: string, ms: number): Promise<boolean> {
    await connected(this.#redis)
    return (await this.#redis.eval(renewLua, 1, this.#lease, owner, String(ms))) === 1
  }

  async release(owner: string): Promise<void> {
    await connected(this.#redis)
    await this.#redis.eval(dropLua, 1, this.#lease, owner)
  }

  /** How long the lease is still held, in ms (0 when free). */
  async leaseLeft(): Promise<number> {
    await connected(this.#redis)
    return Math.max(0, await this.#redis.pttl(this.#lease))
  }
}
