// scale: scaling out. The same workload, partitioned over a 6-partition topic, drained into a fresh PostgreSQL
// database by one consumer process and by three processes of one group (the consumer role, as the drain
// scenario starts it), in the same run. Timed from the moment the records become visible to a settled group
// until the last member's end (see measure).
import type { Context, Options } from '../context.ts'
import { inspectPostgres } from '../databases.ts'
import { type HeldRecords, prefillHeld } from '../kafka.ts'
import { kafkaBroker, postgresBackendsOf, sampleCpu } from '../process-cpu.ts'
import type { MeasurementDefinition } from '../report.ts'
import { startDrain } from '../spawn.ts'
import type { DrainResult } from '../workers/protocol.ts'
import { generateWorkload, type Workload } from '../workload.ts'
import { check, drainRequest, endOffsets, migratedPostgres } from './shared.ts'

export const measurements = ({ settings }: Options): MeasurementDefinition[] => [
  {
    id: 'scale.drain.1',
    label: `drain → PostgreSQL, ${settings.scalePartitions} partitions, 1 process`,
    unit: 'events/s',
  },
  {
    id: 'scale.drain.n',
    label: `drain → PostgreSQL, ${settings.scalePartitions} partitions, ${settings.scaleConsumers} processes`,
    unit: 'events/s',
    compareTo: [{ id: 'scale.drain.1', kind: 'reference' }],
    note: `${settings.scaleConsumers} consumer processes in one group; CPU µs/event is the sum over them`,
  },
]

/** What a group drain measured, from its members' results. */
export interface GroupDrain {
  readonly events: number
  readonly ms: number
  readonly cpuMs: number
  readonly peakRssBytes: number
  readonly deadLettered: number
}

/**
 * The drain of the whole group: from the moment the records became visible to the last member's end, with the
 * CPU of all members. Every member counts the same DLQ, so the largest count is the group's.
 */
export function groupDrain(events: number, releasedAt: number, results: readonly DrainResult[]): GroupDrain {
  if (results.length === 0) throw new Error('a group drain needs at least one member')
  return {
    events,
    ms: Math.max(...results.map(r => r.finishedAt)) - releasedAt,
    cpuMs: results.reduce((sum, r) => sum + r.cpuMs, 0),
    peakRssBytes: Math.max(...results.map(r => r.peakRssBytes)),
    deadLettered: Math.max(...results.map(r => r.deadLettered)),
  }
}

/**
 * Whether the group has settled: every one of `members` owns partitions, no partition has two owners, all
 * `partitions` are owned, and no member owns more than one partition more than another.
 */
export function settled(
  owned: readonly (readonly number[] | undefined)[],
  members: number,
  partitions: number,
): boolean {
  if (owned.length !== members || owned.some(p => p === undefined || p.length === 0)) return false
  const all = owned.flatMap(p => p ?? [])
  if (new Set(all).size !== all.length || all.length !== partitions) return false
  const counts = owned.map(p => p?.length ?? 0)
  return Math.max(...counts) - Math.min(...counts) <= 1
}

export async function run(ctx: Context): Promise<void> {
  const { events, scalePartitions, scaleConsumers, scaleRuns: runs } = ctx.settings
  // Same seed and size as the main workload: the same events, only partitioned over more partitions.
  const workload = generateWorkload({ events, partitions: scalePartitions })
  for (let round = 1; round <= runs; round++) {
    // Alternating which goes first, so a neighbour's burst does not always fall on the same one.
    const order = round % 2 === 1 ? [1, scaleConsumers] : [scaleConsumers, 1]
    for (const members of order) await measure(ctx, round, workload, members)
  }
}

/**
 * One group drain. The records are written in a transaction left open while the members start and the group
 * settles its assignment, then committed: the clock starts when every record becomes visible at once, so the
 * figure is the group's drain rate, not how fast it formed (KIP-848 moves partitions over several heartbeats).
 */
async function measure(ctx: Context, round: number, workload: Workload, members: number) {
  const label = `scale-out drain, ${members} process${members === 1 ? '' : 'es'} ${round}`
  const topic = await ctx.freshTopic(undefined, workload.partitions)
  const url = await migratedPostgres(ctx)
  const request = { ...drainRequest(ctx, topic, url, { partitions: workload.partitions }), member: true }
  const end = endOffsets(workload)
  const total = workload.records.length
  const committed = new Map<number, number>()
  const owned: (number[] | undefined)[] = new Array(members).fill(undefined)
  let wake: () => void = () => {}
  const changed = () => wake()
  const handles = Array.from({ length: members }, (_, i) =>
    startDrain(request, () => {}, ctx.options.spawnOptions, {
      onAssigned: partitions => {
        owned[i] = partitions
        changed()
      },
      onCommitted: (partition, offset) => {
        if ((committed.get(partition) ?? 0) < offset) committed.set(partition, offset)
        changed()
      },
    }),
  )
  // A member that fails, or ends before it is told to, must not leave the group waiting forever.
  let stopping = false
  const failed = Promise.race(
    handles.map(h =>
      h.result.then(() => {
        if (!stopping) throw new Error('a member ended before the group drained')
      }),
    ),
  )
  failed.catch(() => {})
  /** Resolves once `condition` holds, checked at every report of a member; rejects when a member fails. */
  const until = async (condition: () => boolean, what: string, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`${label}: ${what} did not happen within ${timeoutMs / 1000} s`)
      const next = new Promise<void>(resolve => {
        wake = resolve
        setTimeout(resolve, 200)
      })
      await Promise.race([next, failed])
    }
  }
  let results: DrainResult[]
  let held: HeldRecords | undefined
  try {
    held = await prefillHeld(topic, workload.records, sent =>
      ctx.status(`${label}: writing ${sent.toLocaleString()} records in a held transaction`),
    )
    await until(() => settled(owned, members, workload.partitions), 'the group settling', 60_000)
    const releasedAt = Date.now()
    const database = url.slice(url.lastIndexOf('/') + 1)
    const samplers = { postgres: sampleCpu(postgresBackendsOf(database)), broker: sampleCpu(kafkaBroker) }
    await held.commit()
    await until(
      () => {
        let sum = 0
        for (const v of committed.values()) sum += v
        ctx.status(`${label}: ${sum.toLocaleString()} / ${total.toLocaleString()}`)
        return Object.entries(end).every(([p, o]) => (committed.get(Number(p)) ?? 0) >= o)
      },
      'the drain',
      600_000,
    )
    stopping = true
    for (const h of handles) h.stop()
    results = await Promise.all(handles.map(h => h.result))
    const costs = { postgresCpuMs: samplers.postgres.stop(), brokerCpuMs: samplers.broker.stop() }
    report(ctx, label, round, members, groupDrain(total, releasedAt, results), costs)
  } catch (error) {
    for (const h of handles) h.kill()
    await held?.abort().catch(() => {})
    throw error
  }
  check(ctx, `scale.drain.${members}#${round}`, workload, await inspectPostgres(url, false))
}

function report(
  ctx: Context,
  label: string,
  round: number,
  members: number,
  group: GroupDrain,
  costs: { postgresCpuMs: number; brokerCpuMs: number },
): void {
  const rate = (group.events / group.ms) * 1000
  const per = (ms: number) => (ms * 1000) / group.events
  ctx.say(
    `${label}: ${group.events.toLocaleString()} records in ${(group.ms / 1000).toFixed(2)} s = ` +
      `${Math.round(rate).toLocaleString()} events/s, consumer CPU ${per(group.cpuMs).toFixed(1)} µs/event ` +
      `(all processes; PostgreSQL ${per(costs.postgresCpuMs).toFixed(1)}, broker ${per(costs.brokerCpuMs).toFixed(1)}), ` +
      `peak RSS ${(group.peakRssBytes / 2 ** 20).toFixed(0)} MB (largest process)`,
  )
  ctx.results.add(members === 1 ? 'scale.drain.1' : 'scale.drain.n', rate, {
    cpuUsPerEvent: per(group.cpuMs),
    postgresCpuUsPerEvent: per(costs.postgresCpuMs),
    brokerCpuUsPerEvent: per(costs.brokerCpuMs),
  })
  if (group.deadLettered > 0)
    ctx.problem(`scale.drain.${members}#${round}: ${group.deadLettered} records dead-lettered`)
}
