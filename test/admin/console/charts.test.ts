// The charts' pure part: GET /admin/series as uPlot's columns, the figure under each chart, the span, when to
// draw a chart anew, the y axis and how often the page asks again.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  chartData,
  chartSpecs,
  colourOf,
  countSteps,
  figureLinesMax,
  figureText,
  formatValue,
  latest,
  palette,
  refreshEveryMs,
  sameLines,
  spanText,
  yRange,
} from '../../../src/admin/console/charts-data.ts'
import type { Series } from '../../../src/admin/console/types.ts'

const n = (value: number) => new Intl.NumberFormat().format(value)
const spec = (key: string) => chartSpecs.find(c => c.key === key)!

const series = (overrides: Partial<Series> = {}): Series => ({
  source: 'memory',
  intervalMs: 10_000,
  capacity: 360,
  bytes: 360 * 8 * 8,
  at: [1_700_000_000_000, 1_700_000_010_000, 1_700_000_020_000],
  applied: [null, 120.5, 80],
  deadLetters: [null, 0, 0.2],
  pending: [3, 4, null],
  partitions: [
    { partition: 0, lagRecords: [10, 5, 0], lagSeconds: [2.5, 1, 0] },
    { partition: 2, lagRecords: [null, 7, 9], lagSeconds: [null, 0.4, 75] },
  ],
  partitionsOmitted: 0,
  ...overrides,
})

describe('chart data', () => {
  it("is uPlot's columns: x in seconds, then this member's line", () => {
    const data = chartData(series(), 'applied')
    assert.deepEqual(data.lines, ['Applied records per second'])
    assert.deepEqual(data.columns, [
      [1_700_000_000, 1_700_000_010, 1_700_000_020],
      [null, 120.5, 80],
    ])
    assert.deepEqual(chartData(series(), 'pending').columns[1], [3, 4, null])
  })

  it('has one line per partition for the lag, in records and in seconds', () => {
    const records = chartData(series(), 'lagRecords')
    assert.deepEqual(records.lines, ['partition 0', 'partition 2'])
    assert.deepEqual(records.columns.slice(1), [
      [10, 5, 0],
      [null, 7, 9],
    ])
    assert.deepEqual(chartData(series(), 'lagSeconds').columns.slice(1), [
      [2.5, 1, 0],
      [null, 0.4, 75],
    ])
  })

  it('is drawn anew only when its lines change', () => {
    const before = chartData(series(), 'lagRecords')
    assert.equal(sameLines(undefined, before), false, 'never drawn')
    assert.equal(sameLines(before, chartData(series({ at: [1, 2, 3] }), 'lagRecords')), true)
    const fewer = series({ partitions: [{ partition: 0, lagRecords: [1], lagSeconds: [1] }] })
    assert.equal(sameLines(before, chartData(fewer, 'lagRecords')), false)
  })
})

describe('figures', () => {
  it('takes the last known value of a column', () => {
    assert.equal(latest([1, 2, null]), 2)
    assert.equal(latest([null, null]), undefined)
    assert.equal(latest([]), undefined)
  })

  it('writes each unit: rates, counts, seconds under a minute, durations above', () => {
    assert.equal(formatValue('rate', 120.54), `${n(120.5)}/s`)
    assert.equal(formatValue('count', 4.4), '4')
    assert.equal(formatValue('seconds', 0.44), `${n(0.4)} s`)
    assert.equal(formatValue('seconds', 75), '1 min 15 s')
    assert.equal(formatValue('rate', 0.25, 2), `${n(0.25)}/s`, "an axis' ticks")
    assert.equal(formatValue('rate', null), '–')
    assert.equal(formatValue('count', Number.NaN), '–')
  })

  it('says the last value under each chart, per partition for the lag', () => {
    assert.equal(figureText(spec('applied'), chartData(series(), 'applied')), `Now ${n(80)}/s.`)
    assert.equal(figureText(spec('pending'), chartData(series(), 'pending')), 'Now 4.')
    assert.equal(
      figureText(spec('lagSeconds'), chartData(series(), 'lagSeconds')),
      'Now partition 0: 0 s, partition 2: 1 min 15 s.',
    )
    assert.equal(
      figureText(spec('lagRecords'), chartData(series({ partitions: [] }), 'lagRecords')),
      'No partition owned by this member yet.',
    )
  })

  it(`names at most ${figureLinesMax} partitions under a chart`, () => {
    const partitions = Array.from({ length: figureLinesMax + 3 }, (_, p) => ({
      partition: p,
      lagRecords: [p],
      lagSeconds: [p],
    }))
    const text = figureText(spec('lagRecords'), chartData(series({ at: [1], partitions }), 'lagRecords'))
    assert.match(text, new RegExp(`partition ${figureLinesMax - 1}: `))
    assert.doesNotMatch(text, new RegExp(`partition ${figureLinesMax}: `))
    assert.match(text, /; 3 more in the legend\.$/)
  })

  it('says what the charts span and where the samples come from', () => {
    assert.equal(spanText(series()), "The last 30 s, this consumer member's: 3 of 360 samples, one every 10 s.")
    assert.equal(
      spanText(series({ at: [], source: 'prometheus' })),
      'The last 0 s, from Prometheus: 0 of 360 samples, one every 10 s.',
    )
  })
})

describe('axes, colours and refreshes', () => {
  it('starts the y axis at 0 with room above the highest value', () => {
    assert.deepEqual(yRange(100), [0, 110.00000000000001])
    assert.deepEqual(yRange(0), [0, 1])
    assert.deepEqual(yRange(null), [0, 1])
  })

  it('steps the ticks of counts by whole events', () => {
    assert.deepEqual(countSteps.slice(0, 6), [1, 2, 5, 10, 20, 50])
    assert.ok(countSteps.every(step => Number.isInteger(step) && step >= 1))
    assert.ok((countSteps.at(-1) ?? 0) >= 1e12)
  })

  it('gives lines colours in turn', () => {
    assert.equal(colourOf(0), palette[0])
    assert.equal(colourOf(palette.length + 1), palette[1])
  })

  it('asks again at every sample, between once a second and every 5 seconds', () => {
    assert.equal(refreshEveryMs(10_000), 5000)
    assert.equal(refreshEveryMs(2000), 2000)
    assert.equal(refreshEveryMs(100), 1000)
    assert.equal(refreshEveryMs(Number.NaN), 5000)
  })
})
