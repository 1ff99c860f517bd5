// http: POST /produce on the pipeline's producer against a no-op Fastify POST route, with one event and with
// 100-event batches per request; the producer writes to a fresh topic.
import type { Context } from '../context.ts'
import type { MeasurementDefinition } from '../report.ts'
import { startServer } from '../spawn.ts'
import type { Workload } from '../workload.ts'
import { type HttpTarget, measureHttp } from './http-runs.ts'

export const measurements = (): MeasurementDefinition[] => [
  {
    id: 'http.produce.single',
    label: 'POST /produce, 1 event',
    unit: 'req/s',
    compareTo: [{ id: 'http.noop.single', kind: 'ceiling' }],
  },
  { id: 'http.noop.single', label: 'no-op Fastify POST, 1 event', unit: 'req/s' },
  {
    id: 'http.produce.batch',
    label: 'POST /produce, 100 events',
    unit: 'events/s',
    compareTo: [
      { id: 'http.noop.batch', kind: 'ceiling' },
      { id: 'java.producer', kind: 'ceiling' },
    ],
  },
  { id: 'http.noop.batch', label: 'no-op Fastify POST, 100 events', unit: 'events/s' },
]

/** `count` request bodies: single events, or JSON arrays of `perBody` events, cycling through the workload. */
export function produceBodies(workload: Workload, perBody: number, count: number): string[] {
  const bodies: string[] = []
  const values = workload.records.map(r => r.value)
  for (let i = 0; i < count; i++) {
    if (perBody === 1) bodies.push(values[i % values.length]!)
    else {
      const slice: string[] = []
      for (let j = 0; j < perBody; j++) slice.push(values[(i * perBody + j) % values.length]!)
      bodies.push(`[${slice.join(',')}]`)
    }
  }
  return bodies
}

export async function run(ctx: Context): Promise<void> {
  const { settings } = ctx
  const { spawnOptions } = ctx.options
  const topic = await ctx.freshTopic()
  const producer = await startServer(
    { kind: 'producer', logLevel: settings.logLevel, topic, partitions: settings.partitions },
    spawnOptions,
  )
  const noop = await startServer({ kind: 'noop', logLevel: settings.logLevel }, spawnOptions)
  try {
    const single = produceBodies(ctx.workload, 1, 2000)
    const batch = produceBodies(ctx.workload, 100, 100)
    const targets: HttpTarget[] = [
      {
        id: 'http.produce.single',
        url: `${producer.url}/produce`,
        load: { bodies: single },
        events: 1,
        pid: producer.pid,
      },
      { id: 'http.noop.single', url: `${noop.url}/produce`, load: { bodies: single }, events: 1 },
      {
        id: 'http.produce.batch',
        url: `${producer.url}/produce`,
        load: { bodies: batch },
        events: 100,
        pid: producer.pid,
      },
      { id: 'http.noop.batch', url: `${noop.url}/produce`, load: { bodies: batch }, events: 100 },
    ]
    await measureHttp(ctx, 'POST', targets)
  } finally {
    await producer.stop()
    await noop.stop()
  }
}
