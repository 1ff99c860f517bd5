// read: GET /orders/{id} on the pipeline's read API over the database the main drain filled (or, when no drain
// ran, one loaded with COPY), against a Fastify GET route that answers a constant.
import type { Context } from '../context.ts'
import { ceilingRows, loadWithCopy } from '../copy-ceiling.ts'
import { vacuumAnalyze } from '../databases.ts'
import type { MeasurementDefinition } from '../report.ts'
import { startServer } from '../spawn.ts'
import { measureHttp } from './http-runs.ts'
import { migratedPostgres } from './shared.ts'

export const measurements = (): MeasurementDefinition[] => [
  {
    id: 'read.orders',
    label: 'GET /orders/{id}',
    unit: 'req/s',
    compareTo: [{ id: 'read.constant', kind: 'ceiling' }],
  },
  { id: 'read.constant', label: 'constant Fastify GET', unit: 'req/s' },
]

export async function run(ctx: Context): Promise<void> {
  const { logLevel } = ctx.settings
  const { spawnOptions } = ctx.options
  let database = ctx.readDatabase
  if (database === undefined) {
    database = await migratedPostgres(ctx)
    await loadWithCopy(database, ceilingRows('bench-read', ctx.workload.records))
  }
  await vacuumAnalyze(database)
  const api = await startServer({ kind: 'api', logLevel, databaseUrl: database }, spawnOptions)
  const constant = await startServer({ kind: 'constant', logLevel }, spawnOptions)
  try {
    const paths = ctx.workload.orderIds.map(id => `/orders/${encodeURIComponent(id)}`)
    await measureHttp(ctx, 'GET', [
      { id: 'read.orders', url: api.url, load: { paths } },
      { id: 'read.constant', url: constant.url, load: { paths } },
    ])
  } finally {
    await api.stop()
    await constant.stop()
  }
}
