// latency: end to end, from the produce timestamp to the acknowledged offset commit, for every record of a
// steady load offered at half the rate the same engine drained at in this invocation (10,000 events/s when no
// drain ran), after its warm-up.
import type { Context } from '../context.ts'
import { type Sent, steadyLoad } from '../kafka.ts'
import type { MeasurementDefinition } from '../report.ts'
import { startDrain } from '../spawn.ts'
import { percentile } from '../stats.ts'
import { drainRequest } from './shared.ts'

export const measurements = (): MeasurementDefinition[] => [
  { id: 'latency.postgres', label: 'e2e latency → PostgreSQL', unit: 'events/s offered' },
  { id: 'latency.sqlite', label: 'e2e latency → SQLite', unit: 'events/s offered' },
]

export async function run(ctx: Context): Promise<void> {
  for (let round = 1; round <= ctx.settings.runs; round++) {
    for (const engine of ['postgres', 'sqlite'] as const) {
      const drained = ctx.results.median(`drain.${engine}`) ?? 10_000
      await measure(ctx, round, engine, drained / 2)
    }
  }
}

async function measure(ctx: Context, round: number, engine: 'postgres' | 'sqlite', rate: number): Promise<void> {
  const { settings } = ctx
  const topic = await ctx.freshTopic()
  const url = engine === 'postgres' ? await ctx.freshPostgres() : `sqlite:${ctx.freshSqlite()}`
  const handle = startDrain(drainRequest(ctx, topic, url, { recordCommits: true }), () => {}, ctx.options.spawnOptions)
  await handle.joined
  const offered = Math.max(100, Math.round(rate))
  const seconds = settings.latencyWarmupSeconds + settings.latencySeconds
  ctx.status(`latency → ${engine} ${round}: offering ${offered.toLocaleString()} events/s for ${seconds} s`)
  let sent: Sent[]
  const started = Date.now()
  try {
    sent = await steadyLoad(topic, ctx.workload.records, offered, seconds)
  } catch (error) {
    handle.kill()
    throw error
  }
  const end: Record<string, number> = {}
  for (const s of sent) end[s.partition] = Math.max(end[s.partition] ?? 0, Number(s.offset) + 1)
  handle.end(end)
  const result = await handle.result
  // Per partition, commits only move forward: walk them alongside the records in offset order.
  const latencies: number[] = []
  let uncommitted = 0
  const measuredFrom = started + settings.latencyWarmupSeconds * 1000
  const commits = result.commits ?? []
  for (let p = 0; p < settings.partitions; p++) {
    const mine = commits.filter(c => c[1] === p).sort((a, b) => a[0] - b[0])
    const records = sent.filter(s => s.partition === p).sort((a, b) => Number(a.offset - b.offset))
    let c = 0
    for (const r of records) {
      while (c < mine.length && mine[c]![2] <= Number(r.offset)) c++
      if (c === mine.length) uncommitted++
      else if (r.at >= measuredFrom) latencies.push(mine[c]![0] - r.at)
    }
  }
  const p50 = percentile(latencies, 50)
  const p99 = percentile(latencies, 99)
  ctx.say(
    `latency → ${engine} ${round}: ${latencies.length.toLocaleString()} records at ${offered.toLocaleString()} events/s: ` +
      `p50 ${p50} ms, p99 ${p99} ms`,
  )
  if (uncommitted > 0)
    ctx.results.problems.push(`latency ${engine} run ${round}: ${uncommitted} records never committed`)
  ctx.results.add(`latency.${engine}`, offered, { p50Ms: p50, p99Ms: p99 })
}
