// drain: the pipeline's consumer draining the pre-filled workload topic into a fresh PostgreSQL database and a
// fresh SQLite file, timed from the group join to the commit of the last offset, then checked row by row.
import type { Context } from '../context.ts'
import { dropPostgresDatabases, inspectPostgres, inspectSqlite } from '../databases.ts'
import type { MeasurementDefinition } from '../report.ts'
import { check, costsPerEvent, drain, drainRequest, endOffsets } from './shared.ts'

export const measurements = (): MeasurementDefinition[] => [
  {
    id: 'drain.postgres',
    label: 'drain → PostgreSQL',
    unit: 'events/s',
    compareTo: [
      { id: 'naive.postgres', kind: 'baseline' },
      { id: 'copy.postgres', kind: 'ceiling' },
    ],
  },
  {
    id: 'drain.postgres.info',
    label: 'drain → PostgreSQL, LOG_LEVEL=info',
    unit: 'events/s',
    compareTo: [{ id: 'drain.postgres', kind: 'reference' }],
    note: 'the same drain with one "event applied" log line per record (stdout to /dev/null)',
  },
  {
    id: 'drain.sqlite',
    label: 'drain → SQLite',
    unit: 'events/s',
    compareTo: [{ id: 'naive.postgres', kind: 'baseline' }],
  },
]

/**
 * The target of one drain: PostgreSQL at the bench's log level, SQLite, or PostgreSQL at INFO (what logging every
 * applied event costs).
 */
export type DrainTarget = 'postgres' | 'sqlite' | 'postgres-info'

/** One round's drain of `target`. The main PostgreSQL drain keeps its database for the read scenario. */
export async function run(ctx: Context, round: number, target: DrainTarget): Promise<void> {
  if (target === 'sqlite') await drainSqlite(ctx, round)
  else await drainPostgres(ctx, round, target === 'postgres' ? ctx.settings.logLevel : 'info')
}

async function drainPostgres(ctx: Context, round: number, logLevel: string): Promise<void> {
  const { workload, workloadTopic: topic } = ctx
  const url = await ctx.freshPostgres()
  const main = logLevel === ctx.settings.logLevel
  const result = await drain(
    ctx,
    `drain → PostgreSQL${main ? '' : ` at ${logLevel}`} ${round}`,
    drainRequest(ctx, topic, url, { endOffsets: endOffsets(workload), logLevel }),
    workload.records.length,
  )
  const rate = (result.handled / result.ms) * 1000
  ctx.results.add(main ? 'drain.postgres' : 'drain.postgres.info', rate, costsPerEvent(result))
  if (main) ctx.results.add('rss.main', result.peakRssBytes / 2 ** 20)
  const what = `drain.postgres${main ? '' : `.${logLevel}`}#${round}`
  check(ctx, what, workload, await inspectPostgres(url, round === 1), result)
  if (main) ctx.readDatabase = url
  else await dropPostgresDatabases([url.slice(url.lastIndexOf('/') + 1)])
}

async function drainSqlite(ctx: Context, round: number): Promise<void> {
  const { workload, workloadTopic: topic } = ctx
  const path = ctx.freshSqlite()
  const result = await drain(
    ctx,
    `drain → SQLite ${round}`,
    drainRequest(ctx, topic, `sqlite:${path}`, { endOffsets: endOffsets(workload) }),
    workload.records.length,
  )
  ctx.results.add('drain.sqlite', (result.handled / result.ms) * 1000, costsPerEvent(result))
  check(ctx, `drain.sqlite#${round}`, workload, inspectSqlite(path), result)
}
