// Issue 16's goals are judged on this run's figures only: MET or MISSED at the bounds the issue names, and "not
// measured" whenever the run lacks a figure a goal needs (a --quick run never passes the 1M memory check).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type Goal, goals, goalsTable } from '../../bench/goals.ts'
import { Results } from '../../bench/report.ts'

type Figures = Record<string, [number, Record<string, number>?]>

function resultsOf(figures: Figures): Results {
  const results = new Results()
  for (const [id, [value, extra]] of Object.entries(figures)) {
    results.define({ id, label: id, unit: 'x' })
    results.add(id, value, extra)
  }
  return results
}

/** Every figure the goals read, each at the given value. */
const all: Figures = {
  'drain.postgres': [90_000, { cpuUsPerEvent: 12 }],
  'copy.postgres': [100_000],
  'http.produce.batch': [80_000],
  'java.producer': [100_000],
  'read.orders': [8_000, { p99Ms: 9.9 }],
  'read.constant': [10_000],
  'rss.drain': [199.9, { eventsPerSecond: 45_000 }],
  'scale.drain.1': [40_000],
  'scale.drain.n': [60_000],
}

const statuses = (list: readonly Goal[]) => Object.fromEntries(list.map(g => [g.id, g.status]))

describe('bench goals', () => {
  it('are MET exactly at their bounds', () => {
    const list = goals(resultsOf(all), { rssEvents: 1_000_000, history: true })
    assert.deepEqual(statuses(list), {
      drain: 'MET',
      produce: 'MET',
      read: 'MET',
      rss: 'MET',
      scale: 'MET',
      history: 'MET',
    })
    const byId = Object.fromEntries(list.map(g => [g.id, g]))
    assert.equal(byId['drain']?.value, 0.9)
    assert.equal(byId['produce']?.value, 0.8)
    assert.equal(byId['read']?.value, 0.8)
    assert.equal(byId['scale']?.value, 1.5)
    assert.match(byId['rss']?.figure ?? '', /199\.9 MB, at 45,000 events\/s \(0\.50× the main drain\)/)
  })

  it('are MISSED just past each bound', () => {
    const cases: [string, Figures][] = [
      ['drain', { 'copy.postgres': [100_001] }],
      ['drain', { 'drain.postgres': [90_000, { cpuUsPerEvent: 12.1 }] }],
      ['produce', { 'java.producer': [100_001] }],
      ['read', { 'read.orders': [8_000, { p99Ms: 10 }] }],
      ['read', { 'read.constant': [10_001] }],
      ['rss', { 'rss.drain': [200] }],
    ]
    for (const [id, change] of cases) {
      const list = goals(resultsOf({ ...all, ...change }), { rssEvents: 1_000_000, history: true })
      const missed = list.filter(g => g.status === 'MISSED').map(g => g.id)
      assert.deepEqual(missed, [id], JSON.stringify(change))
    }
  })

  it('are "not measured" when their scenario did not run, never MET', () => {
    const list = goals(resultsOf({}), { rssEvents: 0, history: false })
    assert.deepEqual(new Set(list.map(g => g.status)), new Set(['not measured']))
    assert.equal(list.length, 6)
    for (const g of list) assert.equal(g.value, undefined)
  })

  it('leave the memory goal unmeasured after a --quick run or a drain shorter than 1,000,000 events', () => {
    const quick = goals(resultsOf(all), { rssEvents: 0, history: false })
    assert.equal(statuses(quick)['rss'], 'not measured')
    assert.equal(statuses(quick)['history'], 'not measured')
    const short = goals(resultsOf(all), { rssEvents: 100_000, history: true })
    assert.equal(statuses(short)['rss'], 'not measured')
    assert.match(short.find(g => g.id === 'rss')?.figure ?? '', /100,000 events, fewer than/)
  })

  it('need both sides of a ratio', () => {
    const { 'java.producer': _java, ...withoutJava } = all
    assert.equal(
      statuses(goals(resultsOf(withoutJava), { rssEvents: 1_000_000, history: true }))['produce'],
      'not measured',
    )
    const { 'scale.drain.1': _one, ...withoutOne } = all
    assert.equal(
      statuses(goals(resultsOf(withoutOne), { rssEvents: 1_000_000, history: true }))['scale'],
      'not measured',
    )
  })

  it('show ratios to three places, rounded down, so a ratio under its bound never reads as the bound', () => {
    const just = goals(resultsOf({ ...all, 'http.produce.batch': [79_996] }), { rssEvents: 0, history: false })
    const produce = just.find(g => g.id === 'produce')
    assert.equal(produce?.status, 'MISSED')
    assert.match(produce?.figure ?? '', /= 0\.799×$/)
    const at = goals(resultsOf(all), { rssEvents: 0, history: false }).find(g => g.id === 'produce')
    assert.equal(at?.status, 'MET')
    assert.match(at?.figure ?? '', /= 0\.800×$/)
  })

  it('print one line per goal with its status and figure, and what it is judged on', () => {
    const text = goalsTable(goals(resultsOf(all), { rssEvents: 0, history: false }))
    assert.match(text, /^MET {11}1\. drain → PostgreSQL .*0\.900× COPY, consumer CPU 12\.0 µs\/event$/m)
    assert.match(text, /judged on drain\/COPY ≥ 0\.9× and consumer CPU ≤ 12 µs\/event/)
    assert.match(text, /^not measured {2}4\. consumer peak RSS/m)
  })
})
