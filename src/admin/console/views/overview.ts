// The overview: every role's probes, each partition's offsets, lag and applied rate, the pending events and the
// DLQ's counts, refreshed every 2 seconds while the section is shown.
import { type Context, Refresher } from '../context.ts'
import { byId, fillRows, h } from '../dom.ts'
import { entryCount, formatDuration, formatNumber, formatTime } from '../format.ts'
import { ids } from '../ids.ts'
import { appliedRate, type Sample, sampleOf } from '../rates.ts'
import type { Overview, Stats } from '../types.ts'

const refreshMs = 2000

function countsRows(counts: Readonly<Record<string, number>>): HTMLTableRowElement[] {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1])
  if (entries.length === 0) return [h('tr', {}, h('td', { colSpan: 2 }, 'none'))]
  return entries.map(([name, n]) => h('tr', {}, h('td', {}, name), h('td', { className: 'num' }, formatNumber(n))))
}

export function pendingText(overview: Overview): string {
  if (overview.pending === null) return `Unknown: ${overview.pendingError ?? 'the database did not answer'}`
  if (overview.pending.count === 0) return 'None.'
  const count = `${overview.pending.capped ? '≥ ' : ''}${formatNumber(overview.pending.count)}`
  return `${count} waiting for their parent; the oldest for ${formatDuration(overview.pending.oldestAgeSeconds)}.`
}

export class OverviewView {
  readonly #context: Context
  readonly #refresher: Refresher
  /** The previous refresh's committed offsets, for the applied rate. */
  #previous: Sample | undefined

  constructor(context: Context) {
    this.#context = context
    this.#refresher = new Refresher(context, refreshMs, () => this.refresh())
  }

  start(): void {
    this.#refresher.start()
  }

  stop(): void {
    this.#refresher.stop()
  }

  async refresh(): Promise<void> {
    const [overview, stats] = await Promise.all([this.#context.api.overview(), this.#context.api.stats()])
    this.#renderRoles(overview)
    this.#renderPartitions(overview)
    byId(ids.pending, HTMLParagraphElement).textContent = pendingText(overview)
    this.#renderDeadLetters(stats)
  }

  #renderRoles(overview: Overview): void {
    byId(ids.overviewAt, HTMLSpanElement).textContent = `Last: ${formatTime(overview.at)}.`
    const rows = Object.entries(overview.roles).map(([role, probe]) =>
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, role),
        h('td', { className: probe.health === 'ok' ? 'ok' : 'bad' }, probe.health),
        h('td', { className: probe.ready === 'ready' ? 'ok' : 'bad' }, probe.ready),
        h(
          'td',
          {},
          Object.entries(probe.checks ?? {})
            .map(([name, check]) => (check.ok ? `${name} ok` : `${name}: ${check.error ?? 'failing'}`))
            .join(' · '),
        ),
      ),
    )
    fillRows(byId(ids.roles, HTMLTableElement), rows)
  }

  #renderPartitions(overview: Overview): void {
    byId(ids.topicName, HTMLSpanElement).textContent = `(topic ${overview.topic}, group ${overview.group})`
    const kafkaError = byId(ids.kafkaError, HTMLParagraphElement)
    kafkaError.hidden = overview.kafkaError === undefined
    kafkaError.textContent = overview.kafkaError ? `Kafka: ${overview.kafkaError}` : ''
    const now = Date.parse(overview.at)
    const rows = (overview.partitions ?? []).map(p => {
      const rate = appliedRate(this.#previous, now, p)
      return h(
        'tr',
        {},
        h('th', { scope: 'row' }, String(p.partition)),
        h('td', { className: 'num' }, formatNumber(p.end)),
        h('td', { className: 'num' }, p.committed === null ? 'none yet' : formatNumber(p.committed)),
        h('td', { className: p.lag > 0 ? 'num warn' : 'num' }, formatNumber(p.lag)),
        h('td', { className: 'num' }, formatNumber(rate)),
      )
    })
    fillRows(byId(ids.partitions, HTMLTableElement), rows)
    this.#previous = sampleOf(now, overview.partitions)
  }

  #renderDeadLetters(stats: Stats): void {
    byId(ids.dlqTotal, HTMLParagraphElement).textContent =
      `${entryCount(stats.total)}; oldest ${formatTime(stats.oldest)}, newest ${formatTime(stats.newest)}.`
    fillRows(byId(ids.dlqByCode, HTMLTableElement), countsRows(stats.byCode))
    fillRows(byId(ids.dlqByType, HTMLTableElement), countsRows(stats.byType))
  }
}
