// The arithmetic of `npm run bench -- --compare`: figures read from a run, the direction of each, medians of
// alternated pairs, the spread, and which headline figures are called out.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseCompareOptions } from '../../bench/compare.ts'
import {
  compareRuns,
  compareTable,
  type Figure,
  figuresOf,
  type Measurements,
  regressions,
  sideOrder,
} from '../../bench/compare-figures.ts'

function run(drain: number, cpu: number, copy: number, p99: number): Measurements {
  return {
    'drain.postgres': {
      label: 'consumer drain, PostgreSQL',
      unit: 'events/s',
      median: drain,
      medians: { cpuUsPerEvent: cpu },
      ratios: [
        { id: 'copy.postgres', kind: 'ceiling', ratio: drain / copy },
        { id: 'naive.postgres', kind: 'baseline', ratio: 2 },
      ],
    },
    'copy.postgres': { label: 'COPY', unit: 'rows/s', median: copy },
    'read.orders': { label: 'GET /orders', unit: 'req/s', median: 9000, medians: { p99Ms: p99 } },
  }
}

const byId = (figures: readonly Figure[]) => new Map(figures.map(f => [f.id, f]))

describe('bench --compare', () => {
  it('reads medians, secondary medians and ceiling ratios, each with its direction', () => {
    const f = byId(figuresOf(run(30_000, 25, 80_000, 11)))
    assert.equal(f.get('drain.postgres')?.higherIsBetter, true)
    assert.equal(f.get('drain.postgres.cpuUsPerEvent')?.higherIsBetter, false)
    assert.equal(f.get('drain.postgres/copy.postgres')?.value, 30_000 / 80_000)
    assert.equal(f.get('drain.postgres/copy.postgres')?.higherIsBetter, true)
    assert.equal(f.has('drain.postgres/naive.postgres'), false, 'only ceilings are ratios worth comparing')
    assert.equal(f.get('read.orders.p99Ms')?.higherIsBetter, false)
    assert.equal(f.get('read.orders.p99Ms')?.headline, true)
    assert.equal(f.get('copy.postgres')?.headline, false)
  })

  it('medians of each side over the pairs, the ratio and the spread of per-pair ratios', () => {
    const pairs = [
      [figuresOf(run(30_000, 25, 80_000, 10)), figuresOf(run(33_000, 22, 80_000, 10))],
      [figuresOf(run(31_000, 24, 80_000, 10)), figuresOf(run(29_000, 26, 80_000, 10))],
      [figuresOf(run(29_000, 26, 80_000, 10)), figuresOf(run(31_900, 23, 80_000, 10))],
    ] as const
    const c = new Map(compareRuns(pairs).map(x => [x.id, x]))
    const drain = c.get('drain.postgres')!
    assert.equal(drain.ref, 30_000)
    assert.equal(drain.tree, 31_900)
    assert.equal(drain.pairs, 3)
    assert.ok(Math.abs(drain.ratio - 31_900 / 30_000) < 1e-12)
    assert.ok(Math.abs(drain.spread[0] - 29_000 / 31_000) < 1e-12)
    assert.ok(Math.abs(drain.spread[1] - 33_000 / 30_000) < 1e-12)
    assert.ok(drain.cost < 0, 'faster is a negative cost')
    const cpu = c.get('drain.postgres.cpuUsPerEvent')!
    assert.ok(Math.abs(cpu.cost - (23 / 25 - 1)) < 1e-12, 'less CPU is a negative cost')
  })

  it('calls out a headline figure worse by more than the threshold, and only those', () => {
    const slower = [[figuresOf(run(30_000, 20, 80_000, 10)), figuresOf(run(27_000, 20.5, 80_000, 12))]] as const
    const worse = regressions(compareRuns(slower), 0.05).map(c => c.id)
    assert.deepEqual(worse.sort(), ['drain.postgres', 'drain.postgres/copy.postgres', 'read.orders.p99Ms'])
    const table = compareTable(compareRuns(slower), 0.05)
    assert.match(table, /\* drain\.postgres .*COSTS 10\.0 %/)
    assert.doesNotMatch(table, /cpuUsPerEvent.*COSTS/, '2.5 % is within the threshold')
    const same = [[figuresOf(run(30_000, 20, 80_000, 10)), figuresOf(run(29_000, 20.5, 80_000, 10.2))]] as const
    assert.deepEqual(regressions(compareRuns(same), 0.05), [])
  })

  it('leaves out a figure one side of a pair lacks', () => {
    const tree = run(30_000, 20, 80_000, 10)
    delete (tree as Record<string, unknown>)['read.orders']
    const c = compareRuns([[figuresOf(run(30_000, 20, 80_000, 10)), figuresOf(tree)]])
    assert.equal(
      c.some(x => x.id.startsWith('read.')),
      false,
    )
  })

  it('alternates which side runs first', () => {
    assert.deepEqual([0, 1, 2, 3].map(sideOrder), [
      ['ref', 'tree'],
      ['tree', 'ref'],
      ['ref', 'tree'],
      ['tree', 'ref'],
    ])
  })

  it('passes every other option to both sides, and defaults to the quick hot-path scenarios', () => {
    assert.deepEqual(parseCompareOptions(['--compare', 'main']), {
      ref: 'main',
      pairs: 3,
      benchArgs: ['--quick', '--runs', '1', '--only', 'drain,copy,http,read'],
    })
    assert.deepEqual(parseCompareOptions(['--quick', '--compare=HEAD~2', '--pairs', '5', '--only', 'read']), {
      ref: 'HEAD~2',
      pairs: 5,
      benchArgs: ['--quick', '--only', 'read'],
    })
    assert.throws(() => parseCompareOptions(['--compare']), /needs a git ref/)
    assert.throws(() => parseCompareOptions(['--compare', 'x', '--pairs', '0']), /--pairs/)
  })
})
