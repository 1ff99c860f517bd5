// GET /admin/overview: the console's first screen in one call — every role's health and readiness, each
// partition's end offset, the group's committed offset and the lag between them, and the pending events.
// Gathered on the server so the page talks to one origin with one token: the producer's and the read API's
// probes are fetched from here (CONSOLE_PRODUCER_URL, CONSOLE_API_URL), each within a short timeout, and one
// role that does not answer shows as "unreachable" instead of failing the whole answer.
import type { FastifyInstance } from 'fastify'
import Type from 'typebox'
import { withTimeout } from '../async.ts'
import type { OffsetsReader } from '../kafka/index.ts'
import type { PendingStats } from '../store/index.ts'

const Probe = Type.Object({
  url: Type.String(),
  health: Type.String({ description: "'ok', 'unreachable' or the status code /health answered" }),
  ready: Type.String({ description: "/ready's status ('ready', 'not ready') or 'unreachable'" }),
  checks: Type.Optional(
    Type.Record(Type.String(), Type.Object({ ok: Type.Boolean(), error: Type.Optional(Type.String()) })),
  ),
})

/** The answer of GET /admin/overview, as the console renders it. */
export const OverviewSchema = Type.Object(
  {
    at: Type.String({ format: 'date-time' }),
    topic: Type.String(),
    group: Type.String(),
    roles: Type.Object({ producer: Probe, consumer: Probe, api: Probe }),
    partitions: Type.Union([
      Type.Array(
        Type.Object({
          partition: Type.Integer(),
          end: Type.Integer({ description: 'Log end offset: the offset the next record gets' }),
          committed: Type.Union([Type.Integer(), Type.Null()], { description: "The group's committed offset" }),
          lag: Type.Integer({ description: 'Records the group has not committed yet' }),
        }),
      ),
      Type.Null(),
    ]),
    kafkaError: Type.Optional(Type.String()),
    pending: Type.Union([
      Type.Object({
        count: Type.Integer(),
        capped: Type.Boolean({ description: 'More are pending than count: counting stops at a cap' }),
        oldestAgeSeconds: Type.Integer(),
      }),
      Type.Null(),
    ]),
    pendingError: Type.Optional(Type.String()),
  },
  { description: 'Every role, every partition and the pending events, as the console shows them' },
)

export interface RoleProbe {
  /** 'ok' when /health answered 200, 'unreachable' when it did not answer in time, else its status code. */
  readonly health: string
  /** /ready's status ('ready', 'not ready') or 'unreachable'. */
  readonly ready: string
  /** /ready's per-check details (shown to the admin, who is the only caller here). */
  readonly checks?: Readonly<Record<string, { ok: boolean; error?: string }>>
  readonly url: string
}

export interface PartitionRow {
  readonly partition: number
  /** Offset the next record of the partition will get (its log end). */
  readonly end: number
  /** The group's committed offset: the next record it will read; null when it committed none yet. */
  readonly committed: number | null
  /** Records not yet committed by the group. */
  readonly lag: number
}

export interface Overview {
  readonly at: string
  readonly topic: string
  readonly group: string
  readonly roles: Readonly<Record<'producer' | 'consumer' | 'api', RoleProbe>>
  /** Null when Kafka could not be asked in time; `kafkaError` says why. */
  readonly partitions: readonly PartitionRow[] | null
  readonly kafkaError?: string
  /** `capped`: at least `count` are pending (counting stops at a cap). */
  readonly pending: { readonly count: number; readonly capped: boolean; readonly oldestAgeSeconds: number } | null
  readonly pendingError?: string
}

/**
 * Joins the log end offsets with the group's commits. A partition the group never committed counts its whole
 * log as lag (a new group starts from the earliest offset), so a stuck first start shows instead of hiding.
 */
export function partitionRows(
  ends: ReadonlyMap<number, bigint>,
  committed: ReadonlyMap<number, bigint>,
): PartitionRow[] {
  return [...ends.entries()]
    .sort(([a], [b]) => a - b)
    .map(([partition, end]) => {
      const c = committed.get(partition)
      const done = c === undefined || c < 0n ? null : c
      const lag = end - (done ?? 0n)
      return {
        partition,
        end: Number(end),
        committed: done === null ? null : Number(done),
        lag: Number(lag > 0n ? lag : 0n),
      }
    })
}

/** Seconds since `since` (ISO-8601) at `now`, never negative; 0 when there is nothing pending. */
export function ageSeconds(since: string | undefined, now: number): number {
  if (since === undefined) return 0
  const at = Date.parse(since)
  return Number.isNaN(at) ? 0 : Math.max(0, Math.round((now - at) / 1000))
}

/** Most bytes read of another role's probe answer: a probe body is a few hundred bytes. */
const probeBodyMax = 64 * 1024

async function boundedJson(response: Response): Promise<unknown> {
  const reader = response.body?.getReader()
  if (reader === undefined) return undefined
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > probeBodyMax) {
      await reader.cancel()
      return undefined
    }
    chunks.push(value)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    return undefined
  }
}

/** /health and /ready of a role at `url`, asked with the admin token so /ready shows its details. */
export async function probeRole(url: string, authorization: string, timeoutMs: number): Promise<RoleProbe> {
  const get = async (path: string) => {
    const response = await fetch(`${url}${path}`, {
      headers: { authorization },
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    })
    return { status: response.status, body: (await boundedJson(response)) as Record<string, unknown> | undefined }
  }
  const [health, ready] = await Promise.allSettled([get('/health'), get('/ready')])
  const readyBody = ready.status === 'fulfilled' ? ready.value.body : undefined
  return {
    url,
    health:
      health.status === 'fulfilled'
        ? health.value.status === 200
          ? 'ok'
          : String(health.value.status)
        : 'unreachable',
    ready:
      ready.status === 'fulfilled'
        ? typeof readyBody?.['status'] === 'string'
          ? readyBody['status']
          : String(ready.value.status)
        : 'unreachable',
    ...(readyBody?.['checks'] !== undefined ? { checks: readyBody['checks'] as RoleProbe['checks'] } : {}),
  }
}

/** This role's own probes, answered by its app without a network round trip. */
async function probeSelf(app: FastifyInstance, url: string, authorization: string): Promise<RoleProbe> {
  const [health, ready] = await Promise.all([
    app.inject({ method: 'GET', url: '/health', headers: { authorization } }),
    app.inject({ method: 'GET', url: '/ready', headers: { authorization } }),
  ])
  const body = ready.json() as { status: string; checks?: RoleProbe['checks'] }
  return {
    url,
    health: health.statusCode === 200 ? 'ok' : String(health.statusCode),
    ready: body.status,
    ...(body.checks !== undefined ? { checks: body.checks } : {}),
  }
}

export interface OverviewSources {
  readonly app: FastifyInstance
  readonly topic: string
  readonly group: string
  readonly producerUrl: string
  readonly apiUrl: string
  readonly selfUrl: string
  readonly offsets: OffsetsReader
  readonly pendingStats: () => Promise<PendingStats>
  /** Longest any one probe or Kafka call may take. */
  readonly timeoutMs: number
}

export async function gatherOverview(sources: OverviewSources, authorization: string): Promise<Overview> {
  const { timeoutMs } = sources
  const [producer, consumer, api, partitions, pending] = await Promise.allSettled([
    probeRole(sources.producerUrl, authorization, timeoutMs),
    probeSelf(sources.app, sources.selfUrl, authorization),
    probeRole(sources.apiUrl, authorization, timeoutMs),
    withTimeout(
      Promise.all([sources.offsets.ends(sources.topic), sources.offsets.committed(sources.group, sources.topic)]),
      timeoutMs,
      'Kafka',
    ),
    withTimeout(sources.pendingStats(), timeoutMs, 'the database'),
  ])
  const unreachable = (url: string): RoleProbe => ({ url, health: 'unreachable', ready: 'unreachable' })
  return {
    at: new Date().toISOString(),
    topic: sources.topic,
    group: sources.group,
    roles: {
      producer: producer.status === 'fulfilled' ? producer.value : unreachable(sources.producerUrl),
      consumer: consumer.status === 'fulfilled' ? consumer.value : unreachable(sources.selfUrl),
      api: api.status === 'fulfilled' ? api.value : unreachable(sources.apiUrl),
    },
    partitions: partitions.status === 'fulfilled' ? partitionRows(...partitions.value) : null,
    ...(partitions.status === 'rejected' ? { kafkaError: (partitions.reason as Error).message } : {}),
    pending:
      pending.status === 'fulfilled'
        ? {
            count: pending.value.count,
            capped: pending.value.capped,
            oldestAgeSeconds: ageSeconds(pending.value.oldestSince, Date.now()),
          }
        : null,
    ...(pending.status === 'rejected' ? { pendingError: (pending.reason as Error).message } : {}),
  }
}
