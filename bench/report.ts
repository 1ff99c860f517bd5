// What the benchmark reports: one entry per measurement (its runs, their median, the median of its secondary
// figures such as p99), the ratio of each to its baseline or ceiling from the same run, and the targets.
import { writeFileSync } from 'node:fs'
import { median } from './stats.ts'

export interface Measurement {
  readonly id: string
  readonly label: string
  readonly unit: string
  /** Primary value of each run. */
  readonly runs: number[]
  /** Secondary values of each run (e.g. p50Ms, p99Ms), reported as medians. */
  readonly extra: Record<string, number[]>
  /**
   * Measurements this one is compared with: a baseline it should beat, a ceiling it approaches, or another
   * configuration of the same thing (reference).
   */
  readonly compareTo?: readonly { readonly id: string; readonly kind: 'baseline' | 'ceiling' | 'reference' }[]
  readonly note?: string
  /** Decimals shown in the table (default 1 for MB, else 0). */
  readonly digits?: number
}

/** What a scenario declares about a measurement before it runs. */
export type MeasurementDefinition = Omit<Measurement, 'runs' | 'extra'>

export interface Target {
  readonly name: string
  readonly wanted: string
  readonly actual: number | undefined
  readonly met: boolean | undefined
}

export class Results {
  readonly #measurements = new Map<string, Measurement>()
  readonly problems: string[] = []

  define(m: MeasurementDefinition): void {
    if (!this.#measurements.has(m.id)) this.#measurements.set(m.id, { ...m, runs: [], extra: {} })
  }

  add(id: string, value: number, extra: Record<string, number> = {}): void {
    const m = this.#measurements.get(id)
    if (m === undefined) throw new Error(`unknown measurement ${id}`)
    m.runs.push(value)
    for (const [key, v] of Object.entries(extra)) {
      const values = m.extra[key] ?? []
      values.push(v)
      m.extra[key] = values
    }
  }

  median(id: string): number | undefined {
    const m = this.#measurements.get(id)
    return m === undefined || m.runs.length === 0 ? undefined : median(m.runs)
  }

  extra(id: string, key: string): number | undefined {
    const values = this.#measurements.get(id)?.extra[key]
    return values === undefined || values.length === 0 ? undefined : median(values)
  }

  /** Median of `id` over the median of `other`, both from this run. */
  ratio(id: string, other: string): number | undefined {
    const mine = this.median(id)
    const theirs = this.median(other)
    return mine === undefined || theirs === undefined || theirs === 0 ? undefined : mine / theirs
  }

  ratios(m: Measurement): { id: string; kind: string; ratio: number }[] {
    const out: { id: string; kind: string; ratio: number }[] = []
    for (const c of m.compareTo ?? []) {
      const ratio = this.ratio(m.id, c.id)
      if (ratio !== undefined) out.push({ ...c, ratio })
    }
    return out
  }

  all(): Measurement[] {
    return [...this.#measurements.values()].filter(m => m.runs.length > 0)
  }

  toJSON() {
    const out: Record<string, unknown> = {}
    for (const m of this.all()) {
      const extra: Record<string, number> = {}
      for (const key of Object.keys(m.extra)) extra[key] = this.extra(m.id, key)!
      out[m.id] = {
        label: m.label,
        unit: m.unit,
        median: this.median(m.id),
        runs: m.runs,
        ...(Object.keys(extra).length > 0 ? { medians: extra, extraRuns: m.extra } : {}),
        ...(m.compareTo ? { ratios: this.ratios(m) } : {}),
        ...(m.note ? { note: m.note } : {}),
      }
    }
    return out
  }
}

const number = (value: number | undefined, digits = 0) =>
  value === undefined || Number.isNaN(value)
    ? '–'
    : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

export function table(results: Results): string {
  const rows: string[][] = [['measurement', 'median', 'unit', 'p50 ms', 'p99 ms', 'CPU µs/ev', 'ratio', 'runs']]
  for (const m of results.all()) {
    const digits = m.digits ?? (m.unit === 'MB' ? 1 : 0)
    const p50 = results.extra(m.id, 'p50Ms')
    const p99 = results.extra(m.id, 'p99Ms')
    rows.push([
      m.label,
      number(results.median(m.id), digits),
      m.unit,
      number(p50, 1),
      number(p99, 1),
      number(results.extra(m.id, 'cpuUsPerEvent'), 1),
      results
        .ratios(m)
        .map(r => `${number(r.ratio, 2)}× ${r.kind === 'reference' ? 'of' : r.kind} ${r.id}`)
        .join(', '),
      m.runs.map(r => number(r, digits)).join(' / '),
    ])
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map(r => r[i]!.length)))
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 || i >= 6 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [line(rows[0]!), widths.map(w => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n')
}

/** What one busy core does on a drain: events/s of the consumer's and of PostgreSQL's own CPU time. */
export interface PerCore {
  readonly id: string
  readonly label: string
  /** 1,000,000 / the consumer's CPU µs per event: what one core running only the consumer would apply. */
  readonly consumer: number
  /** 1,000,000 / PostgreSQL's CPU µs per event (its server processes), when measured. */
  readonly postgres: number | undefined
}

/**
 * The capacity planner's figure, from each event-counting measurement's CPU per event: events/s per busy core
 * of the consumer and of PostgreSQL. Derived from the medians of measured CPU, never from the wall clock, so it
 * holds on a machine whose cores are shared.
 */
export function perCore(results: Results): PerCore[] {
  const rows: PerCore[] = []
  for (const m of results.all()) {
    if (m.unit !== 'events/s') continue
    const consumerUs = results.extra(m.id, 'cpuUsPerEvent')
    if (consumerUs === undefined || !(consumerUs > 0)) continue
    const postgresUs = results.extra(m.id, 'postgresCpuUsPerEvent')
    rows.push({
      id: m.id,
      label: m.label,
      consumer: 1e6 / consumerUs,
      postgres: postgresUs !== undefined && postgresUs > 0 ? 1e6 / postgresUs : undefined,
    })
  }
  return rows
}

export function perCoreTable(rows: readonly PerCore[]): string {
  if (rows.length === 0) return '(no drain measured its CPU)'
  const width = Math.max(...rows.map(r => r.label.length))
  return rows
    .map(r => {
      const postgres = r.postgres === undefined ? '' : `, PostgreSQL ${number(r.postgres)}`
      return `${r.label.padEnd(width)}  consumer ${number(r.consumer)}${postgres} events/s per busy core`
    })
    .join('\n')
}

/** The targets, each met or not by this run's medians and ratios (unknown when not measured). */
export function targets(results: Results): Target[] {
  const t = (name: string, wanted: string, actual: number | undefined, ok: (v: number) => boolean): Target => ({
    name,
    wanted,
    actual,
    met: actual === undefined ? undefined : ok(actual),
  })
  const ratio = (id: string, other: string) => results.ratio(id, other)
  return [
    t('drain → PostgreSQL vs naive', '≥ 20×', ratio('drain.postgres', 'naive.postgres'), v => v >= 20),
    t('drain → PostgreSQL vs COPY ceiling', '≥ 0.5×', ratio('drain.postgres', 'copy.postgres'), v => v >= 0.5),
    t('drain → PostgreSQL', '≥ 50,000 events/s', results.median('drain.postgres'), v => v >= 50_000),
    t('POST /produce single vs no-op', '≥ 0.4×', ratio('http.produce.single', 'http.noop.single'), v => v >= 0.4),
    t('POST /produce 100-event batches', '≥ 150,000 events/s', results.median('http.produce.batch'), v => v >= 150_000),
    t('GET /orders/{id} vs constant', '≥ 0.4×', ratio('read.orders', 'read.constant'), v => v >= 0.4),
    t('GET /orders/{id} p99 at 64 connections', '< 10 ms', results.extra('read.orders', 'p99Ms'), v => v < 10),
    t('consumer RSS draining 1,000,000 events', '< 300 MB', results.median('rss.drain'), v => v < 300),
  ]
}

export function targetsTable(targets: readonly Target[]): string {
  return targets
    .map(
      t =>
        `${t.met === undefined ? ' ? ' : t.met ? 'MET' : 'MISSED'}  ${t.name}: wanted ${t.wanted}, got ${t.actual === undefined ? '–' : number(t.actual, 2)}`,
    )
    .join('\n')
}

export function writeJson(path: string, body: unknown): void {
  writeFileSync(path, `${JSON.stringify(body, null, 2)}\n`)
}
