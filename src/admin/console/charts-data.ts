// The charts' data, from GET /admin/series: uPlot's columns (x in seconds, one column per line), the lines' names,
// the figure written under each chart (a canvas says nothing to a screen reader) and the axes' labels. Pure: no
// DOM and no uPlot, so unit tests drive it.
import { formatDuration, formatNumber } from './format.ts'
import type { Series } from './types.ts'

export type ChartKey = 'applied' | 'deadLetters' | 'pending' | 'lagRecords' | 'lagSeconds'
export type Unit = 'rate' | 'count' | 'seconds'

export interface ChartSpec {
  readonly key: ChartKey
  readonly title: string
  readonly unit: Unit
}

/** The charts, in the order the page shows them. */
export const chartSpecs: readonly ChartSpec[] = [
  { key: 'applied', title: 'Applied records per second', unit: 'rate' },
  { key: 'deadLetters', title: 'Dead letters per second', unit: 'rate' },
  { key: 'pending', title: 'Pending events', unit: 'count' },
  { key: 'lagRecords', title: 'Lag per partition, in records', unit: 'count' },
  { key: 'lagSeconds', title: 'Lag per partition, in seconds', unit: 'seconds' },
]

/** uPlot's aligned data: the x column (seconds since the epoch), then one column per line. */
export type Columns = [number[], ...(number | null)[][]]

export interface ChartData {
  /** One name per line, in the order of the columns after x. */
  readonly lines: readonly string[]
  readonly columns: Columns
}

const perPartition = (key: ChartKey): key is 'lagRecords' | 'lagSeconds' => key === 'lagRecords' || key === 'lagSeconds'

/** The columns of one chart: one line of this member's, or one per partition for the lag. */
export function chartData(series: Series, key: ChartKey): ChartData {
  const x = series.at.map(at => at / 1000)
  if (perPartition(key)) {
    return {
      lines: series.partitions.map(p => `partition ${p.partition}`),
      columns: [x, ...series.partitions.map(p => p[key])],
    }
  }
  return { lines: [chartSpecs.find(c => c.key === key)?.title ?? key], columns: [x, series[key]] }
}

/** Whether a chart drawn with `before` can take `after` as new data (the same lines), or must be drawn anew. */
export function sameLines(before: ChartData | undefined, after: ChartData): boolean {
  return before !== undefined && before.lines.join('\n') === after.lines.join('\n')
}

/** The last value a column has, if it has one. */
export function latest(column: readonly (number | null)[]): number | undefined {
  for (let k = column.length - 1; k >= 0; k--) {
    const value = column[k]
    if (typeof value === 'number') return value
  }
  return undefined
}

/**
 * A number as the chart's unit writes it: `12.5/s`, `1,234`, `1.5 s` (under a minute) or `3 min 5 s`; with
 * `decimals` places (1 for a figure, 2 for an axis' ticks, which can be 0.25 apart).
 */
export function formatValue(unit: Unit, n: number | null | undefined, decimals = 1): string {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '–'
  const places = 10 ** decimals
  if (unit === 'rate') return `${formatNumber(Math.round(n * places) / places)}/s`
  if (unit === 'count') return formatNumber(Math.round(n))
  return n < 60 ? `${formatNumber(Math.round(n * places) / places)} s` : formatDuration(n)
}

/** The steps between an axis' ticks for counts: 1, 2, 5, 10, 20, 50, … (never a fraction of an event). */
export const countSteps: readonly number[] = Array.from({ length: 13 }, (_, k) => 10 ** k).flatMap(p => [
  p,
  2 * p,
  5 * p,
])

/** Lines named in a chart's figure text at most; the legend under the canvas names them all. */
export const figureLinesMax = 8

/** The text under a chart: the last value of each line (the first few lines of a chart per partition). */
export function figureText(spec: ChartSpec, data: ChartData): string {
  const [, ...lines] = data.columns
  if (lines.length === 0) return 'No partition owned by this member yet.'
  if (!perPartition(spec.key)) return `Now ${formatValue(spec.unit, latest(lines[0] ?? []))}.`
  const named = lines
    .slice(0, figureLinesMax)
    .map((column, k) => `${data.lines[k]}: ${formatValue(spec.unit, latest(column))}`)
  const more = lines.length > figureLinesMax ? `; ${lines.length - figureLinesMax} more in the legend` : ''
  return `Now ${named.join(', ')}${more}.`
}

/** What the charts cover: `the last 6 min (360 samples, one every 1 s)`. */
export function spanText(series: Series): string {
  const samples = series.at.length
  const first = series.at[0]
  const last = series.at[samples - 1]
  const covered = first === undefined || last === undefined ? 0 : (last - first) / 1000 + series.intervalMs / 1000
  const source = series.source === 'prometheus' ? 'from Prometheus' : "this consumer member's"
  return `The last ${formatDuration(covered)}, ${source}: ${formatNumber(samples)} of ${formatNumber(series.capacity)} samples, one every ${formatDuration(series.intervalMs / 1000)}.`
}

/** How often the page asks again: every sample, but not more than once a second nor less than every 5 seconds. */
export function refreshEveryMs(intervalMs: number): number {
  return Math.min(5000, Math.max(1000, Number.isFinite(intervalMs) ? intervalMs : 5000))
}

/** Line colours, taken in turn (partition lines beyond them repeat the cycle, their names tell them apart). */
export const palette = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df', '#0e8a9e', '#bf3989', '#57606a']

export const colourOf = (line: number): string => palette[line % palette.length] as string

/** The y axis of every chart: from 0 (none of them goes below), with room above the highest value; 0 to 1 when flat. */
export function yRange(max: number | null | undefined): [number, number] {
  return [0, typeof max === 'number' && Number.isFinite(max) && max > 0 ? max * 1.1 : 1]
}
