// The DLQ operations as one object, built once from the configuration (or from a role's own DLQ), so the command
// line and the admin HTTP API run the same code: browse, stats, redrive (dry run, start, run, status, cancel),
// purge, audit, reindex.
import type { Config } from '../config/index.ts'
import type { RedisClient as Redis } from '../dlq/index.ts'
import {
  redisCall as callRedis,
  closeClient,
  createRedisClient,
  type DeadLetter,
  type DeadLetterQueue,
  type DlqConfig,
  dlqFromConfig,
  redisOptionsOf,
} from '../dlq/index.ts'
import { PipelineError } from '../errors.ts'
import { connectionOf, type KafkaConnection } from '../kafka/options.ts'
import { type AuditRecord, readAudit } from './audit.ts'
import { listPage, type Page, type Stats, stats } from './browse.ts'
import type { DlqFilter } from './filter.ts'
import { createJobStore, type JobStatus } from './job-store.ts'
import { LeaseLost } from './lease.ts'
import { decodeEventCursor, encodeEventCursor, pageLimitDefault } from './paging.ts'
import { type PurgeResult, purge } from './purge.ts'
import {
  createRedrive,
  type RedriveContext,
  type RedriveRequest,
  type RunOptions,
  runRedrive,
  type Selection,
  selectForRedrive,
} from './redrive.ts'

/** A page of one eventId's dead letters. */
export interface EventIdPage {
  readonly entries: DeadLetter[]
  readonly total: number
  readonly next: string | null
}

export interface DlqAdmin {
  list(filter: DlqFilter, limit: number, cursor?: string): Promise<Page>
  /** A page of one eventId's entries, newest first; `cursor` is a previous page's `next`. */
  show(eventId: string, limit?: number, cursor?: string): Promise<EventIdPage>
  stats(): Promise<Stats>
  audit(limit: number): Promise<AuditRecord[]>
  select(request: RedriveRequest): Promise<Selection>
  /** Stores the selection as a job; run it with `run`. */
  create(request: RedriveRequest, selection: Selection): Promise<{ id: string; count: number; heldElsewhere: number }>
  run(id: string, options: RunOptions): Promise<JobStatus>
  status(id: string): Promise<JobStatus | undefined>
  cancel(id: string): Promise<void>
  /** Jobs a run left unfinished (killed, or failed), oldest first. */
  unfinished(): Promise<string[]>
  purge(filter: DlqFilter, options: { dryRun: boolean; who: string; limit?: number }): Promise<PurgeResult>
  reindex(): Promise<number>
  close(): Promise<void>
}

export interface DlqAdminOptions {
  readonly dlq: DeadLetterQueue
  /** A client of the DLQ's Redis for the jobs and the audit list. */
  readonly redis: Redis
  /** Its address, as errors name it. */
  readonly redisAddr?: string
  readonly key: string
  readonly connection: KafkaConnection
  readonly kafkaTimeoutMs?: number
  readonly defaultTopic: string
  readonly bodyLimitBytes: number
  readonly maxEventSkewMs?: number
  readonly leaseMs?: number
  readonly leaseMarginMs?: number
  /** Called by close (the resources the admin opened itself). */
  readonly onClose?: () => Promise<void>
}

export function createDlqAdmin(options: DlqAdminOptions): DlqAdmin {
  const { dlq, redis, key } = options
  const ctx: RedriveContext = {
    dlq,
    redis,
    key,
    connection: options.connection,
    kafkaTimeoutMs: options.kafkaTimeoutMs ?? 5000,
    defaultTopic: options.defaultTopic,
    bodyLimitBytes: options.bodyLimitBytes,
    ...(options.maxEventSkewMs !== undefined ? { maxEventSkewMs: options.maxEventSkewMs } : {}),
    ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
    ...(options.leaseMarginMs !== undefined ? { leaseMarginMs: options.leaseMarginMs } : {}),
  }
  const jobs = createJobStore(redis, key)
  // Redis failures of the admin's own commands read as the DLQ's do: DLQ_UNAVAILABLE, retryable. A lost lease
  // says why itself, a Redis failure included.
  const redisCall = <T>(what: string, call: () => Promise<T>): Promise<T> =>
    callRedis(redis, options.redisAddr ?? 'of the DLQ', what, call).catch((error: unknown) => {
      throw error instanceof PipelineError && error.cause instanceof LeaseLost ? error.cause : error
    })
  return {
    list: (filter, limit, cursor) => listPage(dlq, filter, limit, cursor),
    show: async (eventId, limit = pageLimitDefault, cursor) => {
      const page = await dlq.eventPage(eventId, limit, cursor === undefined ? undefined : decodeEventCursor(cursor))
      return {
        entries: page.entries.map(s => s.letter),
        total: page.total,
        next: page.next === null ? null : encodeEventCursor(page.next),
      }
    },
    stats: () => stats(dlq),
    audit: limit => redisCall('audit', () => readAudit(redis, key, limit)),
    select: request => selectForRedrive(ctx, request),
    create: (request, selection) => redisCall('redrive', () => createRedrive(ctx, request, selection)),
    run: (id, runOptions) => redisCall('redrive', () => runRedrive(ctx, id, runOptions)),
    status: id => redisCall('status', () => jobs.status(id)),
    cancel: id => redisCall('cancel', () => jobs.requestCancel(id)),
    unfinished: () => redisCall('redrive', () => jobs.unfinished()),
    purge: (filter, purgeOptions) => redisCall('purge', () => purge(dlq, redis, key, filter, purgeOptions)),
    reindex: () => dlq.reindex(),
    close: async () => {
      await options.onClose?.()
    },
  }
}

/** The settings the admin reads: Redis and the DLQ key, Kafka, and the producer's body limit and event skew. */
export type AdminConfig = DlqConfig &
  Pick<Config, 'kafkaTopic' | 'bodyLimitBytes' | 'maxEventSkewMs'> &
  Parameters<typeof connectionOf>[0]

/**
 * The admin over the configuration's DLQ, Redis and Kafka; `dlq` (a role's own) is used instead of opening one.
 * Close it to release what it opened.
 */
export function adminFromConfig(config: AdminConfig, dlq?: DeadLetterQueue): DlqAdmin {
  const own = dlq === undefined ? dlqFromConfig(config) : undefined
  const redis = createRedisClient(redisOptionsOf(config))
  return createDlqAdmin({
    dlq: dlq ?? (own as DeadLetterQueue),
    redis,
    redisAddr: config.redisAddr,
    key: config.dlqKey,
    connection: connectionOf(config, 'dlq-admin'),
    defaultTopic: config.kafkaTopic,
    bodyLimitBytes: config.bodyLimitBytes,
    maxEventSkewMs: config.maxEventSkewMs,
    onClose: async () => {
      await Promise.allSettled([closeClient(redis), own?.close()])
    },
  })
}
