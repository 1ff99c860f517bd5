// The DLQ scenario's purge of the repeated eventId: its entries read from the index newest first, removed in
// batches of 500, as `dlq purge --event-id` and a fix's redrive do. A removal is an LREM that scans the list from
// the end nearer to the entry, so its cost grows with the entry's distance from that end; the entries of one
// eventId spread over the whole list, so a purge of them all passes over most of the list many times. The whole
// purge of a million-entry list would take far longer than the bench may, so it removes, in the purge's order
// (newest first): the first tenth (the newest entries, near the head), a batch around the middle of the
// list (the worst case), and the last tenth (the oldest, near the tail); and projects the whole purge from the
// middle batch's cost per list element passed. The middle batch is of 100 entries, not 500: at a million entries
// each of them costs a script call of ~0.1 s, and 100 measure it as well.
import type { DeadLetterQueue } from '../../src/dlq/index.ts'
import type { Context } from '../context.ts'
import { hotEventId, type LetterPlan } from '../dlq-letters.ts'
import type { PrivateRedis } from '../redis-server.ts'
import type { MeasurementDefinition } from '../report.ts'
import { median, percentile } from '../stats.ts'
import type { CommandLog } from './dlq.ts'

/** Entries per remove() call, as the purge sends them. */
const batchSize = 500
/** Entries removed around the middle of the list. */
const middleSize = 100

export const removalMeasurements = (): MeasurementDefinition[] => [
  { id: 'dlq.remove.first', label: 'DLQ purge of one eventId, first 10 % of removals', unit: 'µs/entry' },
  {
    id: 'dlq.remove.last',
    label: 'DLQ purge of one eventId, last 10 % of removals',
    unit: 'µs/entry',
    compareTo: [{ id: 'dlq.remove.first', kind: 'reference' }],
  },
  { id: 'dlq.remove.head', label: 'DLQ removal, batch at the head of the list', unit: 'µs/entry' },
  {
    id: 'dlq.remove.middle',
    label: 'DLQ removal, batch in the middle of the list',
    unit: 'µs/entry',
    compareTo: [{ id: 'dlq.remove.head', kind: 'reference' }],
  },
  {
    id: 'dlq.remove.tail',
    label: 'DLQ removal, batch at the tail of the list',
    unit: 'µs/entry',
    compareTo: [{ id: 'dlq.remove.head', kind: 'reference' }],
  },
  {
    id: 'dlq.remove.element',
    label: 'DLQ removal, cost per list element passed (middle)',
    unit: 'ns',
    digits: 1,
    note: 'the middle batch’s time over the list elements its LREMs pass (distance to the nearer end)',
  },
  { id: 'dlq.remove.longest', label: 'DLQ removal, longest script call (SLOWLOG)', unit: 'ms', digits: 1 },
  {
    id: 'dlq.remove.projected',
    label: 'DLQ purge of the whole eventId, projected',
    unit: 's',
    note: 'Σ over its entries, in purge order, of the list elements passed × the middle batch’s ns per element',
  },
]

interface Found {
  readonly entry: string
  /** The index's score: the entry's push sequence (1 for the oldest). */
  readonly score: number
}

interface Removed {
  readonly entries: number
  readonly us: number
  /** Redis's CPU time meanwhile (ms, 10 ms ticks). */
  readonly cpuMs: number
  /** List elements the LREMs passed: each entry's distance to the nearer end of the list when removed. */
  readonly passed: number
  /** Removal script calls (a call stops once its work budget is spent) and the longest, in ms. */
  readonly calls: number
  readonly longestMs: number
}

export async function removal(
  ctx: Context,
  dlq: DeadLetterQueue,
  redis: PrivateRedis,
  plan: LetterPlan,
  log: CommandLog,
): Promise<void> {
  const found: Found[] = []
  const reading = performance.now()
  for await (const e of dlq.eventEntries(hotEventId)) found.push({ entry: e.entry, score: Number(e.after) })
  ctx.say(
    `dlq: read the ${found.length.toLocaleString()} entries of the repeated eventId from the index in ` +
      `${((performance.now() - reading) / 1000).toFixed(1)} s`,
  )
  if (found.length !== plan.hot) ctx.problem(`dlq: the index holds ${found.length} entries of it, not ${plan.hot}`)
  const tenth = Math.max(1, Math.floor(found.length / 10))
  const middle = Math.floor(found.length / 2)
  const mid = Math.min(middleSize, Math.max(1, found.length - 2 * tenth))
  const groups = {
    first: found.slice(0, tenth),
    middle: found.slice(middle - Math.floor(mid / 2), middle - Math.floor(mid / 2) + mid),
    last: found.slice(found.length - tenth),
  }
  let removedSoFar = 0
  /** Removes `entries` (newest first, each newer than every entry removed before) in batches; per batch. */
  const remove = async (name: string, entries: readonly Found[]): Promise<Removed[]> => {
    const batches: Removed[] = []
    for (let i = 0; i < entries.length; i += batchSize) {
      const batch = entries.slice(i, i + batchSize)
      let passed = 0
      for (const [j, f] of batch.entries()) {
        // Every entry removed so far is newer: it was between this one and the head, none below it.
        const fromHead = plan.entries - f.score - (removedSoFar + j)
        passed += Math.max(0, Math.min(fromHead, f.score - 1))
      }
      await log.take(`remove ${name}`)
      const started = performance.now()
      const cpuBefore = redis.cpuMs()
      const removed = await dlq.remove(batch.map(f => f.entry))
      const us = (performance.now() - started) * 1000
      const cpuMs = redis.cpuMs() - cpuBefore
      const calls = (await log.take(`remove ${name}`)).filter(c => c.name === 'script:remove')
      const missing = removed.filter(r => !r).length
      if (missing > 0) ctx.problem(`dlq: ${missing} entries of a removal batch were not in the list`)
      removedSoFar += batch.length
      batches.push({
        entries: batch.length,
        us,
        cpuMs,
        passed,
        calls: calls.length,
        longestMs: Math.max(0, ...calls.map(c => c.micros)) / 1000,
      })
      ctx.status(`dlq: removing the ${name} entries: ${Math.min(entries.length, i + batchSize)} of ${entries.length}`)
    }
    return batches
  }
  const first = await remove('first', groups.first)
  const mids = await remove('middle', groups.middle)
  const last = await remove('last', groups.last)

  const sum = (batches: readonly Removed[]) => ({
    entries: batches.reduce((s, b) => s + b.entries, 0),
    us: batches.reduce((s, b) => s + b.us, 0),
    cpuMs: batches.reduce((s, b) => s + b.cpuMs, 0),
    passed: batches.reduce((s, b) => s + b.passed, 0),
    calls: batches.reduce((s, b) => s + b.calls, 0),
    longestMs: Math.max(0, ...batches.map(b => b.longestMs)),
  })
  const add = (id: string, batches: readonly Removed[]) => {
    const total = sum(batches)
    const perBatchMs = batches.map(b => b.us / 1000)
    ctx.results.add(id, total.us / total.entries, {
      // The table's CPU column: here Redis's CPU per entry.
      cpuUsPerEvent: (total.cpuMs * 1000) / total.entries,
      p50Ms: median(perBatchMs),
      p99Ms: percentile(perBatchMs, 99),
      nsPerElement: (total.us * 1000) / Math.max(1, total.passed),
      meanDistance: total.passed / total.entries,
      calls: total.calls,
      longestCallMs: total.longestMs,
    })
    ctx.say(
      `dlq: ${id}: ${total.entries.toLocaleString()} entries in ${(total.us / 1e6).toFixed(1)} s, ` +
        `${(total.us / total.entries).toFixed(0)} µs/entry (Redis CPU ${((total.cpuMs * 1000) / total.entries).toFixed(0)}), mean distance to the nearer end ` +
        `${Math.round(total.passed / total.entries).toLocaleString()}, ${total.calls} script calls, ` +
        `longest ${total.longestMs.toFixed(1)} ms`,
    )
    return total
  }
  add('dlq.remove.first', first)
  add('dlq.remove.last', last)
  add('dlq.remove.head', first.slice(0, 1))
  const middleTotal = add('dlq.remove.middle', mids)
  add('dlq.remove.tail', last.slice(-1))
  const nsPerElement = (middleTotal.us * 1000) / Math.max(1, middleTotal.passed)
  ctx.results.add('dlq.remove.element', nsPerElement)
  ctx.results.add('dlq.remove.longest', Math.max(...[first, mids, last].map(b => sum(b).longestMs)))

  // The whole purge in its order, newest first: the k-th removal's entry has k newer entries removed before it.
  let passed = 0
  found.forEach((f, k) => {
    passed += Math.max(0, Math.min(plan.entries - f.score - k, f.score - 1))
  })
  const projected = (passed * nsPerElement) / 1e9
  ctx.results.add('dlq.remove.projected', projected, { listElementsPassed: passed })
  ctx.say(`dlq: the whole purge would pass ${passed.toLocaleString()} list elements: ~${projected.toFixed(0)} s`)

  const removed = removedSoFar
  const [length, page] = await Promise.all([dlq.length(), dlq.eventPage(hotEventId, 1)])
  if (length !== plan.entries - removed || page.total !== plan.hot - removed) {
    ctx.problem(`dlq: after ${removed} removals the list holds ${length} and the index ${page.total} of the eventId`)
  }
}
