// rebuild: the projection rebuild's fill (the code path of `pipeline rebuild start`) reading the pre-filled
// workload topic into a PostgreSQL shadow generation, in a worker process of its own like the drain, beside the
// COPY ceiling of the same rows in the same run; then the shadow is checked against the workload.
import { fileURLToPath } from 'node:url'
import type { Context } from '../context.ts'
import type { MeasurementDefinition } from '../report.ts'
import { check, costsPerEvent, drain, drainRequest, endOffsets, migratedPostgres } from './shared.ts'

const rebuildWorker = fileURLToPath(new URL('../workers/rebuild.ts', import.meta.url))

export const measurements = (): MeasurementDefinition[] => [
  {
    id: 'rebuild.postgres',
    label: 'rebuild fill → PostgreSQL shadow',
    unit: 'events/s',
    compareTo: [{ id: 'copy.postgres', kind: 'ceiling' }],
    note: 'rebuild start + fill into a shadow schema, from the fill call (its group join included) to the last commit',
  },
]

export async function run(ctx: Context, round: number): Promise<void> {
  const { workload, workloadTopic: topic } = ctx
  // The live tables exist (migrated) and stay empty: the fill reads the log, never them.
  const url = await migratedPostgres(ctx)
  const result = await drain(
    ctx,
    `rebuild fill → PostgreSQL shadow ${round}`,
    drainRequest(ctx, topic, url, { kind: 'rebuild', endOffsets: endOffsets(workload) }),
    workload.records.length,
    { ...ctx.options.spawnOptions, drainWorker: rebuildWorker },
  )
  ctx.results.add('rebuild.postgres', (result.handled / result.ms) * 1000, costsPerEvent(result))
  if (result.shadow === undefined) ctx.problem(`rebuild.postgres#${round}: the worker did not inspect the shadow`)
  else check(ctx, `rebuild.postgres#${round}`, workload, { ...result.shadow }, result)
}
