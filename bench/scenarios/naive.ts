// naive: the baseline consumer (bench/naive-consumer.ts: one record per transaction and per offset commit)
// on the first records of the pre-filled workload topic, into a fresh PostgreSQL database.
import type { Context } from '../context.ts'
import type { MeasurementDefinition } from '../report.ts'
import type { DrainRequest } from '../workers/protocol.ts'
import { drain, drainRequest } from './shared.ts'

export const measurements = (): MeasurementDefinition[] => [
  {
    id: 'naive.postgres',
    label: 'naive consumer → PostgreSQL',
    unit: 'events/s',
    note: 'one record per transaction and per offset commit; runs on the first records of the same topic',
  },
]

export async function run(ctx: Context, round: number): Promise<void> {
  const { naiveMaxRecords, naiveMaxMs } = ctx.settings
  const url = await ctx.freshPostgres()
  const request: DrainRequest = {
    ...drainRequest(ctx, ctx.workloadTopic, url),
    kind: 'naive',
    maxRecords: naiveMaxRecords,
    maxMs: naiveMaxMs,
  }
  const result = await drain(ctx, `naive → PostgreSQL ${round}`, request, naiveMaxRecords)
  // Like the reference Go system, the baseline gives up on an order whose user (on another partition) is not stored yet;
  // giving up is cheaper than its retries, so this only flatters the baseline.
  if (result.deadLettered > 0) {
    ctx.say(`naive → PostgreSQL ${round}: ${result.deadLettered} records failed (foreign key)`)
  }
  ctx.results.add('naive.postgres', (result.handled / result.ms) * 1000, {
    cpuUsPerEvent: (result.cpuMs * 1000) / result.handled,
    failedRecords: result.deadLettered,
  })
}
