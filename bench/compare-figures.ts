// The arithmetic of `npm run bench -- --compare REF`, apart from the runs themselves so it can be tested: which
// figures are read from a run's results, which way is better for each, and the ratio of this tree to the ref over
// alternated pairs of runs.
import { median } from './stats.ts'

/** One figure of one run: a measurement's median, one of its secondary medians, or its ratio to a ceiling. */
export interface Figure {
  readonly id: string
  readonly label: string
  readonly unit: string
  /** Whether a larger value is better (rates, ratios to a ceiling) or worse (latencies, CPU per event, memory). */
  readonly higherIsBetter: boolean
  /** A figure a change must not worsen by more than the threshold without saying so. */
  readonly headline: boolean
  readonly value: number
}

/** The shape of bench/results/latest.json's `measurements` that this reads (older refs write the same). */
export type Measurements = Record<
  string,
  {
    readonly label: string
    readonly unit: string
    readonly median: number
    readonly medians?: Record<string, number>
    readonly ratios?: readonly { readonly id: string; readonly kind: string; readonly ratio: number }[]
  }
>

/** The figures a change to a hot path must state its cost on. */
export const headlineIds: ReadonlySet<string> = new Set([
  'drain.postgres',
  'drain.postgres/copy.postgres',
  'drain.postgres.cpuUsPerEvent',
  'drain.sqlite',
  'drain.sqlite.cpuUsPerEvent',
  'http.produce.batch',
  'http.produce.single',
  'read.orders',
  'read.orders.p99Ms',
])

const lowerIsBetterUnit = /^(ms|µs|us|MB|s|bytes|B)\b|per entry|µs\/|ms\//

/** Every figure of one run's measurements: medians, secondary medians (p99, CPU per event) and ceiling ratios. */
export function figuresOf(measurements: Measurements): Figure[] {
  const out: Figure[] = []
  for (const [id, m] of Object.entries(measurements)) {
    if (typeof m.median !== 'number' || Number.isNaN(m.median)) continue
    const higher = !lowerIsBetterUnit.test(m.unit)
    out.push({
      id,
      label: m.label,
      unit: m.unit,
      higherIsBetter: higher,
      headline: headlineIds.has(id),
      value: m.median,
    })
    for (const [key, value] of Object.entries(m.medians ?? {})) {
      if (typeof value !== 'number' || Number.isNaN(value)) continue
      // Secondary figures are latencies (p50Ms, p99Ms), costs (cpuUsPerEvent) or sizes: lower is better.
      const sub = `${id}.${key}`
      out.push({
        id: sub,
        label: `${m.label}: ${key}`,
        unit: key,
        higherIsBetter: false,
        headline: headlineIds.has(sub),
        value,
      })
    }
    for (const r of m.ratios ?? []) {
      if (r.kind !== 'ceiling') continue
      const sub = `${id}/${r.id}`
      out.push({
        id: sub,
        label: `${m.label} / ${r.id}`,
        unit: '×',
        higherIsBetter: true,
        headline: headlineIds.has(sub),
        value: r.ratio,
      })
    }
  }
  return out
}

export interface Comparison {
  readonly id: string
  readonly label: string
  readonly unit: string
  readonly headline: boolean
  readonly higherIsBetter: boolean
  /** Medians over the runs of each side. */
  readonly ref: number
  readonly tree: number
  /** tree / ref of the medians. */
  readonly ratio: number
  /** The smallest and largest tree / ref of one pair (runs next to each other in time). */
  readonly spread: readonly [number, number]
  /** How much worse the tree is, as a fraction (0.07 = 7 % worse); negative when it is better. */
  readonly cost: number
  readonly pairs: number
}

/**
 * Compares the figures of alternated pairs of runs: pairs[i] = [ref run, tree run]. A figure missing from either
 * run of a pair is left out of that pair; a figure with no complete pair is not reported.
 */
export function compareRuns(pairs: readonly (readonly [Figure[], Figure[]])[]): Comparison[] {
  const byId = new Map<string, { figure: Figure; refs: number[]; trees: number[]; ratios: number[] }>()
  for (const [refRun, treeRun] of pairs) {
    const tree = new Map(treeRun.map(f => [f.id, f]))
    for (const r of refRun) {
      const t = tree.get(r.id)
      if (t === undefined) continue
      const entry = byId.get(r.id) ?? { figure: t, refs: [], trees: [], ratios: [] }
      entry.refs.push(r.value)
      entry.trees.push(t.value)
      if (r.value !== 0) entry.ratios.push(t.value / r.value)
      byId.set(r.id, entry)
    }
  }
  const out: Comparison[] = []
  for (const [id, { figure, refs, trees, ratios }] of byId) {
    const ref = median(refs)
    const tree = median(trees)
    const ratio = ref === 0 ? Number.NaN : tree / ref
    const cost = figure.higherIsBetter ? 1 - ratio : ratio - 1
    out.push({
      id,
      label: figure.label,
      unit: figure.unit,
      headline: figure.headline,
      higherIsBetter: figure.higherIsBetter,
      ref,
      tree,
      ratio,
      spread: ratios.length === 0 ? [Number.NaN, Number.NaN] : [Math.min(...ratios), Math.max(...ratios)],
      cost,
      pairs: refs.length,
    })
  }
  return out.sort((a, b) => Number(b.headline) - Number(a.headline) || a.id.localeCompare(b.id))
}

/** The headline figures this tree makes worse by more than `threshold` (a fraction: 0.05 = 5 %). */
export function regressions(comparisons: readonly Comparison[], threshold: number): Comparison[] {
  return comparisons.filter(c => c.headline && Number.isFinite(c.cost) && c.cost > threshold)
}

/** The order of the two sides in pair i: ref first in even pairs, tree first in odd ones (ABBA…), so a drift
 * of the machine over the session weighs on both sides alike. */
export function sideOrder(pair: number): readonly ['ref' | 'tree', 'ref' | 'tree'] {
  return pair % 2 === 0 ? ['ref', 'tree'] : ['tree', 'ref']
}

const fixed = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : '–')
const magnitude = (v: number) => (Math.abs(v) >= 100 ? fixed(v, 0) : Math.abs(v) >= 1 ? fixed(v, 2) : fixed(v, 3))

/** The comparison as a plain-text table. */
export function compareTable(comparisons: readonly Comparison[], threshold: number): string {
  const rows = comparisons.map(c => [
    `${c.headline ? '*' : ' '} ${c.id}`,
    c.unit,
    magnitude(c.ref),
    magnitude(c.tree),
    `${fixed(c.ratio, 3)}×`,
    `${fixed(c.spread[0], 2)}–${fixed(c.spread[1], 2)}`,
    c.headline && c.cost > threshold ? `COSTS ${fixed(c.cost * 100, 1)} %` : '',
  ])
  const head = ['figure (* headline)', 'unit', 'ref', 'tree', 'tree/ref', 'pair spread', '']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] as string).length)))
  const line = (r: readonly string[]) =>
    r
      .map((cell, i) => (i >= 2 && i <= 5 ? cell.padStart(widths[i] as number) : cell.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd()
  return [line(head), ...rows.map(line)].join('\n')
}
