// What several scenarios do alike: ask a drain worker for a run and report it, and check what a run left in the
// store against what the workload requires.
import { createStore } from '../../src/store/index.ts'
import type { Context } from '../context.ts'
import { type Found, mismatches } from '../databases.ts'
import { kafkaBroker, postgresBackendsOf, sampleCpu } from '../process-cpu.ts'
import { type SpawnOptions, startDrain } from '../spawn.ts'
import type { DrainRequest, DrainResult } from '../workers/protocol.ts'
import type { Workload } from '../workload.ts'

/** The offset after the last record of each partition: a drain ends once they are committed. */
export function endOffsets(workload: Workload): Record<string, number> {
  const end: Record<string, number> = {}
  for (const r of workload.records) end[r.partition] = Math.max(end[r.partition] ?? 0, r.offset + 1)
  return end
}

/** A pipeline drain of `topic` into `databaseUrl` with its own consumer group and DLQ key. */
export function drainRequest(
  ctx: Context,
  topic: string,
  databaseUrl: string,
  extra: Partial<DrainRequest> = {},
): DrainRequest {
  return {
    kind: 'pipeline',
    topic,
    partitions: ctx.settings.partitions,
    groupId: ctx.freshGroup(),
    databaseUrl,
    dlqKey: ctx.freshDlqKey(),
    logLevel: ctx.settings.logLevel,
    ...extra,
  }
}

/** A fresh PostgreSQL database with the pipeline's schema, for the loads that bypass the consumer. */
export async function migratedPostgres(ctx: Context): Promise<string> {
  const url = await ctx.freshPostgres()
  const store = await createStore({ engine: 'postgres', url })
  await store.migrate()
  await store.close()
  return url
}

/** Runs a drain worker to its end, showing its progress, and says its rate, CPU and memory. */
export async function drain(
  ctx: Context,
  label: string,
  request: DrainRequest,
  total: number,
  options: SpawnOptions = ctx.options.spawnOptions,
): Promise<DrainResult & DrainCosts> {
  const handle = startDrain(
    request,
    handled => ctx.status(`${label}: ${handled.toLocaleString()} / ${total.toLocaleString()}`),
    options,
  )
  // From the join, as the worker's own clock and CPU: what PostgreSQL (this database's backends) and the broker
  // spent meanwhile. The broker's figure counts whatever else uses it at the time.
  const database = request.databaseUrl.startsWith('postgres')
    ? request.databaseUrl.slice(request.databaseUrl.lastIndexOf('/') + 1)
    : undefined
  const sampling = handle.joined.then(() => ({
    postgres: database === undefined ? undefined : sampleCpu(postgresBackendsOf(database)),
    broker: sampleCpu(kafkaBroker),
  }))
  const result = await handle.result
  const samplers = await sampling
  const costs: DrainCosts = {
    postgresCpuMs: samplers.postgres?.stop(),
    brokerCpuMs: samplers.broker.stop(),
  }
  const perEvent = (ms: number | undefined) =>
    ms === undefined ? '–' : ((ms * 1000) / Math.max(1, result.handled)).toFixed(1)
  const { gcPauseUsPerEvent, tenuredBytesPerEvent } = costsPerEvent({ ...result, ...costs })
  const rate = (result.handled / result.ms) * 1000
  ctx.say(
    `${label}: ${result.handled.toLocaleString()} records in ${(result.ms / 1000).toFixed(2)} s = ` +
      `${Math.round(rate).toLocaleString()} events/s, consumer CPU ${perEvent(result.cpuMs)} µs/event ` +
      `(PostgreSQL ${perEvent(costs.postgresCpuMs)}, broker ${perEvent(costs.brokerCpuMs)}), ` +
      `peak RSS ${(result.peakRssBytes / 2 ** 20).toFixed(0)} MB` +
      (result.batches > 0 ? `, ${Math.round(result.handled / result.batches).toLocaleString()} events per batch` : '') +
      (result.gc === undefined
        ? ''
        : `, GC ${result.gc.scavenges} scavenges + ${result.gc.others} others, ` +
          `pauses ${gcPauseUsPerEvent?.toFixed(1)} µs/event, tenured ${Math.round(tenuredBytesPerEvent ?? 0)} B/event`),
  )
  return { ...result, ...costs }
}

/** CPU that other processes spent on a drain: its database's backends (PostgreSQL only) and the broker. */
export interface DrainCosts {
  readonly postgresCpuMs: number | undefined
  readonly brokerCpuMs: number
}

/** The per-event costs of a drain, as secondary figures of its measurement. */
export function costsPerEvent(result: DrainResult & DrainCosts): Record<string, number> {
  const per = (ms: number) => (ms * 1000) / Math.max(1, result.handled)
  return {
    cpuUsPerEvent: per(result.cpuMs),
    ...(result.postgresCpuMs === undefined ? {} : { postgresCpuUsPerEvent: per(result.postgresCpuMs) }),
    brokerCpuUsPerEvent: per(result.brokerCpuMs),
    // Unknown where the worker counts no batches (the rebuild's fill).
    ...(result.batches > 0 ? { eventsPerBatch: result.handled / result.batches } : {}),
    // The main thread's GC: its pauses, and what entered the old generation (gc-summary.ts).
    ...(result.gc === undefined
      ? {}
      : {
          gcPauseUsPerEvent: per(result.gc.pauseMs),
          tenuredBytesPerEvent: result.gc.tenuredBytes / Math.max(1, result.handled),
        }),
  }
}

/**
 * Records a problem when the store does not hold what the workload requires or a record was dead-lettered, and
 * keeps the projection's fingerprint, when it was taken, for the comparison across runs.
 */
export function check(ctx: Context, what: string, workload: Workload, found: Found, result?: DrainResult): void {
  const wrong = mismatches(workload.expected, found)
  if (result !== undefined && result.deadLettered > 0) wrong.push(`${result.deadLettered} records dead-lettered`)
  if (wrong.length > 0) ctx.problem(`${what}: the store does not hold what the workload requires: ${wrong.join('; ')}`)
  if (found.fingerprint !== undefined) ctx.fingerprints.set(what, found.fingerprint)
}

/** Says whether every fingerprinted PostgreSQL projection (consumer and COPY) is the same. */
export function compareProjections(ctx: Context): void {
  const prints = new Set(ctx.fingerprints.values())
  if (prints.size > 1) {
    ctx.problem(
      `PostgreSQL projections differ between the consumer and COPY: ${JSON.stringify(Object.fromEntries(ctx.fingerprints))}`,
    )
  } else if (prints.size === 1) ctx.say(`consumer and COPY projections are identical (md5 ${[...prints][0]})`)
}
