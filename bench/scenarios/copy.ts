// copy: the ceiling of loading the workload into PostgreSQL, COPY into staging tables then one merge per table
// (bench/copy-ceiling.ts), with the rows parsed before the clock starts.
import type { Context } from '../context.ts'
import { type CeilingRows, ceilingRows, loadWithCopy } from '../copy-ceiling.ts'
import { inspectPostgres } from '../databases.ts'
import type { MeasurementDefinition } from '../report.ts'
import { check, migratedPostgres } from './shared.ts'

export const measurements = (): MeasurementDefinition[] => [
  {
    id: 'copy.postgres',
    label: 'COPY + merge → PostgreSQL',
    unit: 'events/s',
    note: 'COPY FROM STDIN (text) into temp staging tables, then one INSERT … ON CONFLICT per table, one transaction',
  },
]

/** The workload's rows as COPY loads them, parsed at the first round and kept for the others. */
const parsed = new WeakMap<Context, CeilingRows>()

function rowsOf(ctx: Context): CeilingRows {
  let rows = parsed.get(ctx)
  if (rows === undefined) {
    rows = ceilingRows(ctx.workloadTopic, ctx.workload.records)
    parsed.set(ctx, rows)
  }
  return rows
}

export async function run(ctx: Context, round: number): Promise<void> {
  const rows = rowsOf(ctx)
  const url = await migratedPostgres(ctx)
  const ms = await loadWithCopy(url, rows)
  const rate = (rows.count / ms) * 1000
  ctx.say(
    `COPY + merge ${round}: ${rows.count.toLocaleString()} records in ${(ms / 1000).toFixed(2)} s = ${Math.round(rate).toLocaleString()} events/s`,
  )
  ctx.results.add('copy.postgres', rate)
  check(ctx, `copy.postgres#${round}`, ctx.workload, await inspectPostgres(url, round === 1))
}
