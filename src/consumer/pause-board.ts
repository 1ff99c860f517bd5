// The pause board of a consumer group, in Redis: the pause record every member obeys, and each member's
// acknowledgement. Callers (the CLI, the admin API, a rebuild) use PauseBoard: pause, resume, state, waitIdle.
// Each member of the group runs a PauseFollower: every 500 ms one script stores its report and reads the record,
// and the consume loop asks it before each batch (pause.ts decides).
//
// Why a poll: one small script a member each half second is cheap, bounded, and works the same on one Redis
// server and on a cluster; a member that missed a message would never know, a member that polls knows within
// one period.
//
// A member that cannot reach Redis keeps the record it read last and goes on: a Redis outage neither pauses nor
// resumes anything. It cannot break a pause either: its report stops being fresh after 10 s, and a caller then
// waits until another member reports the paused partitions it owned (idleVerdict), which Kafka allows only once
// they were taken from it. A member starts no batch before its first read of the record (one that starts while
// Redis does not answer, and so cannot report, applies nothing until it does), nor when its last poll ended
// longer than half a report's lifetime ago (its event loop stalled, the process was stopped): it polls first.
import { hostname } from 'node:os'
import type { Gauge } from 'prom-client'
import { pause as sleep } from '../async.ts'
import type { Config } from '../config/index.ts'
import { type DlqConfig, redisOptionsOf } from '../dlq/index.ts'
import type { Logger } from '../observability/index.ts'
import { closeClient, createRedisClient, type RedisClient, redisCall } from '../redis/client.ts'
import { pauseKeys } from '../redis/keys.ts'
import { luaScript } from '../redis/scripts.ts'
import {
  anyPaused,
  checkScope,
  emptyPauseRecord,
  idleVerdict,
  isPaused,
  type MemberReport,
  memberReport,
  type PauseRecord,
  PauseRequestError,
  type PauseScope,
  parseMemberReport,
  parsePauseRecord,
  pauseByMax,
  pauseEntry,
  type SilentMember,
  withPause,
  withResume,
} from './pause.ts'

/** A change written to the record, for the audit trail. */
export interface PauseChange {
  readonly action: 'pause' | 'resume'
  readonly by: string
  readonly scope: PauseScope
  readonly reason?: string
  /** The record after the change. */
  readonly record: PauseRecord
}

export interface PauseState {
  readonly record: PauseRecord
  /** The fresh reports of the group's members, by member id. */
  readonly members: readonly MemberReport[]
  /** Members whose last report is no longer fresh (kept for a while: they may still be processing). */
  readonly silent: readonly SilentMember[]
  /** Every fresh report obeys the record and shows nothing paused in flight (see idleVerdict). */
  readonly idle: boolean
  readonly waitingFor: readonly string[]
}

export interface PauseBoardOptions {
  readonly redis: RedisClient
  /** Redis's address, named in errors. */
  readonly addr: string
  readonly groupId: string
  readonly topic: string
  /** The topic's partition count, read when a request names partitions (they must exist). */
  readonly partitionCount: () => Promise<number>
  /** Runs after each accepted request (the audit trail); a failure fails the request, the change stays. */
  readonly onChange?: (change: PauseChange) => Promise<void>
  /** Close `redis` with the board (it was made for it). */
  readonly ownsClient?: boolean
}

/** waitIdle ran out of time: the message names the members still running what is paused. */
export class PauseWaitTimeout extends Error {
  readonly state: PauseState
  constructor(timeoutMs: number, state: PauseState) {
    super(`the group was not idle after ${timeoutMs} ms: ${state.waitingFor.join('; ')}`)
    this.name = 'PauseWaitTimeout'
    this.state = state
  }
}

/** How long a member's report is fresh; a stalled member starts no batch past half of it without a new poll. */
export const reportTtlMs = 10_000
/** How long a silent member's last report is kept (longer than any group session timeout). */
export const silentKeptMs = 5 * 60_000
/** How often a member polls. */
export const pollEveryMs = 500
/** Most member reports one state() answers. */
export const membersMax = 1000
/** Times a change is tried again when another caller changed the record at the same moment. */
const writeAttempts = 20

type Scripted = RedisClient & {
  pauseWrite(record: string, expected: string, next: string, json: string): Promise<number>
  pauseReport(
    record: string,
    members: string,
    member: string,
    report: string,
    ttl: number,
    lifetime: number,
  ): Promise<string | null>
  pauseRead(record: string, members: string, max: number, forget: number): Promise<[string | null, string, ...string[]]>
}

function scripted(redis: RedisClient): Scripted {
  const r = redis as Scripted
  if (typeof r.pauseRead !== 'function') {
    redis.defineCommand('pauseWrite', { numberOfKeys: 1, lua: luaScript('pause-write') })
    redis.defineCommand('pauseReport', { numberOfKeys: 2, lua: luaScript('pause-report') })
    redis.defineCommand('pauseRead', { numberOfKeys: 2, lua: luaScript('pause-read') })
  }
  return r
}

export class PauseBoard {
  readonly #options: PauseBoardOptions
  readonly #redis: Scripted
  readonly #keys: ReturnType<typeof pauseKeys>

  constructor(options: PauseBoardOptions) {
    this.#options = options
    this.#redis = scripted(options.redis)
    this.#keys = pauseKeys(options.groupId, options.topic)
  }

  get groupId(): string {
    return this.#options.groupId
  }

  get topic(): string {
    return this.#options.topic
  }

  #call<T>(what: string, command: () => Promise<T>): Promise<T> {
    return redisCall(this.#options.redis, this.#options.addr, what, command)
  }

  async #checked(scope: PauseScope): Promise<PauseScope> {
    return scope === 'all' ? 'all' : checkScope(scope, await this.#options.partitionCount())
  }

  /** Reads the record, applies `change`, writes it back unless another caller wrote in between (then again). */
  async #update(change: (record: PauseRecord) => PauseRecord): Promise<PauseRecord> {
    for (let attempt = 0; attempt < writeAttempts; attempt++) {
      const [revision, text] = await this.#call('reading the pause record', () =>
        this.#redis.hmget(this.#keys.record, 'revision', 'record'),
      )
      // The hash's counter is the revision that counts (a record that does not parse says none).
      const parsed = parsePauseRecord(text)
      const current = { ...parsed, revision: Math.max(parsed.revision, Number(revision ?? 0) || 0) }
      const next = change(current)
      if (next === current) return current
      const written = await this.#call('writing the pause record', () =>
        this.#redis.pauseWrite(this.#keys.record, revision ?? '0', String(next.revision), JSON.stringify(next)),
      )
      if (written === 1) return next
    }
    throw new Error(`the pause record kept changing under ${writeAttempts} attempts to write it; try again`)
  }

  /** Pauses every partition (`all`) or the ones listed; `by` is the caller, `reason` at most 200 characters. */
  async pause(scope: PauseScope, by: string, reason?: string): Promise<PauseState> {
    const entry = pauseEntry(by, reason, new Date())
    const checked = await this.#checked(scope)
    const record = await this.#update(r => withPause(r, checked, entry))
    await this.#options.onChange?.({ action: 'pause', by: entry.by, scope: checked, reason: entry.reason, record })
    return this.state()
  }

  /** Resumes every partition (`all`: every pause is lifted) or the ones listed. */
  async resume(scope: PauseScope, by: string): Promise<PauseState> {
    const checked = await this.#checked(scope)
    const record = await this.#update(r => withResume(r, checked))
    await this.#options.onChange?.({ action: 'resume', by: by.slice(0, pauseByMax), scope: checked, record })
    return this.state()
  }

  /** The record, the members' reports (fresh and silent), and whether they are all idle. */
  async state(): Promise<PauseState> {
    const [text, clock, ...pairs] = await this.#call('reading the pause board', () =>
      this.#redis.pauseRead(this.#keys.record, this.#keys.members, membersMax, silentKeptMs),
    )
    const record = parsePauseRecord(text)
    const now = Number(clock)
    const members: MemberReport[] = []
    const silent: SilentMember[] = []
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      const report = parseMemberReport(pairs[i + 1] as string)
      if (report === undefined) continue
      const freshUntil = Number(pairs[i])
      if (freshUntil > now) members.push(report)
      else silent.push({ report, silentMs: now - freshUntil })
    }
    members.sort((a, b) => a.member.localeCompare(b.member))
    silent.sort((a, b) => a.report.member.localeCompare(b.report.member))
    return { record, members, silent, ...idleVerdict(record, members, silent) }
  }

  /**
   * Resolves once every live member's fresh report obeys the record and shows nothing paused in flight;
   * rejects with PauseWaitTimeout after `timeoutMs`, and with PauseRequestError when nothing is paused (or the
   * pause is lifted while waiting).
   */
  async waitIdle(timeoutMs: number, options: { signal?: AbortSignal; everyMs?: number } = {}): Promise<PauseState> {
    const deadline = Date.now() + timeoutMs
    const signal = options.signal ?? new AbortController().signal
    for (let first = true; ; first = false) {
      const state = await this.state()
      if (!anyPaused(state.record)) {
        throw new PauseRequestError(first ? 'nothing is paused' : 'the pause was lifted while waiting')
      }
      if (state.idle) return state
      if (Date.now() >= deadline) throw new PauseWaitTimeout(timeoutMs, state)
      const wait = Math.min(options.everyMs ?? 100, Math.max(0, deadline - Date.now()))
      if (!(await sleep(wait, signal))) throw new Error('waiting for the group to be idle was aborted')
    }
  }

  /** The member side, for one member of the group (see PauseFollower). */
  follow(options: FollowOptions): PauseFollower {
    return new PauseFollower(this.#redis, this.#options.addr, this.#keys, options)
  }

  async close(): Promise<void> {
    if (this.#options.ownsClient) await closeClient(this.#options.redis)
  }
}

export type PauseBoardConfig = DlqConfig & Pick<Config, 'kafkaGroupId' | 'kafkaTopic'>

/**
 * The board of the configuration's group and topic, over a Redis client of its own (closed with the board).
 * `audit` is handed that client and answers what to run after each accepted request.
 */
export function pauseBoardFromConfig(
  config: PauseBoardConfig,
  partitionCount: () => Promise<number>,
  audit?: (redis: RedisClient) => (change: PauseChange) => Promise<void>,
): PauseBoard {
  const redis = createRedisClient(redisOptionsOf(config))
  return new PauseBoard({
    redis,
    addr: config.redisAddr,
    groupId: config.kafkaGroupId,
    topic: config.kafkaTopic,
    partitionCount,
    ownsClient: true,
    ...(audit === undefined ? {} : { onChange: audit(redis) }),
  })
}

/** What a member says about itself at each poll. */
export interface MemberActivity {
  /** Partitions of the topic this member owns. */
  readonly owned: readonly number[]
  /** Partitions with a batch in flight. */
  readonly inFlight: ReadonlySet<number>
  /** The pending sweep (or a look after a batch) is running. */
  readonly sweeping: boolean
}

export interface FollowOptions {
  readonly activity: () => MemberActivity
  /** Called after each poll: the loop looks at the record again. */
  readonly onPoll: () => void
  readonly logger: Logger
  /** `consumer_paused`: 1 per paused partition this member owns. */
  readonly gauge?: Gauge<'partition'>
  readonly member?: string
  readonly everyMs?: number
  readonly reportTtlMs?: number
}

/**
 * One member's side of the board. No batch may start before its first read of the record, nor when its last
 * poll ended longer than half a report's lifetime ago (see the top of this file); a failed read keeps the last
 * record read in force.
 */
export class PauseFollower {
  readonly #redis: Scripted
  readonly #addr: string
  readonly #keys: ReturnType<typeof pauseKeys>
  readonly #options: FollowOptions
  readonly member: string
  readonly #everyMs: number
  readonly #ttlMs: number
  #record: PauseRecord = emptyPauseRecord
  /** When the record was last read (Date.now()); undefined before the first read. */
  #readAt: number | undefined
  /** When the last poll ended, read or not. */
  #polledAt = 0
  /** Why the last poll failed; undefined once one succeeds. */
  #failure: string | undefined
  readonly #stop = new AbortController()
  #loop: Promise<void> | undefined

  constructor(redis: Scripted, addr: string, keys: ReturnType<typeof pauseKeys>, options: FollowOptions) {
    this.#redis = redis
    this.#addr = addr
    this.#keys = keys
    this.#options = options
    this.#everyMs = options.everyMs ?? pollEveryMs
    this.#ttlMs = options.reportTtlMs ?? reportTtlMs
    this.member = options.member ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`
  }

  /** The record this member obeys. */
  get record(): PauseRecord {
    return this.#record
  }

  /** Whether the record is known and recent enough to act on (see the top of this file). */
  fresh(now = Date.now()): boolean {
    return this.#readAt !== undefined && now - this.#polledAt <= this.#ttlMs / 2
  }

  /** Why no batch may start now (the record is not known fresh), for /ready; undefined when fresh. */
  problem(now = Date.now()): string | undefined {
    if (this.fresh(now)) return undefined
    const when =
      this.#readAt === undefined
        ? 'has not been read yet'
        : `was last polled ${Math.round((now - this.#polledAt) / 1000)} s ago`
    const why = this.#failure === undefined ? '' : ` (${this.#failure})`
    return `the pause record ${when}${why}: no batch starts until it is read`
  }

  /** Whether the record pauses `partition`. */
  paused(partition: number): boolean {
    return isPaused(this.#record, partition)
  }

  /** Whether the pending sweep must wait: every partition is paused, or the record is not known fresh. */
  holdsSweep(now = Date.now()): boolean {
    return this.#record.all !== null || !this.fresh(now)
  }

  /** Starts polling; resolves after the first poll, read or not (bounded by the Redis client's timeout). */
  async start(): Promise<void> {
    if (this.#loop !== undefined) return
    await this.poll()
    this.#loop = this.#run()
  }

  /** Stops polling and withdraws this member's report (a member that left is not waited for). */
  async close(): Promise<void> {
    this.#stop.abort()
    await this.#loop
    await redisCall(this.#redis, this.#addr, 'withdrawing a pause report', () =>
      this.#redis.hdel(this.#keys.members, this.member),
    ).catch(() => {})
    this.#options.gauge?.reset()
  }

  async #run(): Promise<void> {
    while (await sleep(this.#everyMs, this.#stop.signal)) await this.poll()
  }

  /** One poll: stores this member's report, reads the record. */
  async poll(): Promise<void> {
    const { activity, logger, gauge } = this.#options
    const now = new Date()
    const { owned, inFlight, sweeping } = activity()
    const report = memberReport(this.member, this.#record, owned, inFlight, sweeping, now)
    try {
      const text = await redisCall(this.#redis, this.#addr, 'reading the pause record', () =>
        this.#redis.pauseReport(
          this.#keys.record,
          this.#keys.members,
          this.member,
          JSON.stringify(report),
          this.#ttlMs,
          this.#ttlMs + silentKeptMs,
        ),
      )
      const record = parsePauseRecord(text)
      if (record.revision !== this.#record.revision) logger.info({ pause: record }, 'pause record changed')
      this.#record = record
      if (this.#failure !== undefined) logger.info('pause record read again')
      this.#failure = undefined
      this.#readAt = Date.now()
    } catch (error) {
      if (this.#failure === undefined) {
        const holds = this.#readAt === undefined ? 'no batch starts until it is read' : 'the last one read holds'
        logger.warn({ err: error }, `reading the pause record failed; ${holds}`)
      }
      this.#failure = (error as Error).message
    }
    this.#polledAt = Date.now()
    if (gauge !== undefined) {
      gauge.reset()
      for (const p of owned) if (isPaused(this.#record, p)) gauge.set({ partition: String(p) }, 1)
    }
    this.#options.onPoll()
  }
}
