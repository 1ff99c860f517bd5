// rebuild: the projection rebuild's fill (the code path of `pipeline rebuild start`) reading the pre-filled
// workload topic into a PostgreSQL shadow generation, in a worker process of its own like the drain, beside the
// COPY ceiling of the same rows in the same run; then the shadow is checked against the workload.
import { fileURLToPath } from 'node:url'
import type { Context } from '../context.ts'
import { deleteGroups } from '../kafka.ts'
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
  const request = drainRequest(ctx, topic, url, { kind: 'rebuild', endOffsets: endOffsets(workload) })
  // The worker's abort drops the rebuild's groups; these are for a worker that failed before it (its rebuild is
  // the first of a fresh DLQ key, so number 1).
  const groups = ['', '-swap', '-rollback'].map(suffix => `${request.groupId}-rebuild-1${suffix}`)
  let result: Awaited<ReturnType<typeof drain>>
  try {
    result = await drain(ctx, `rebuild fill → PostgreSQL shadow ${round}`, request, workload.records.length, {
      ...ctx.options.spawnOptions,
      drainWorker: rebuildWorker,
    })
  } finally {
    await deleteGroups(groups)
  }
  ctx.results.add('rebuild.postgres', (result.handled / result.ms) * 1000, costsPerEvent(result))
  if (result.shadow === undefined) ctx.problem(`rebuild.postgres#${round}: the worker did not inspect the shadow`)
  else check(ctx, `rebuild.postgres#${round}`, workload, { ...result.shadow }, result)
}
