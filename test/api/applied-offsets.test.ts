// The in-memory applied offsets of the read API, over a counted read function: how many queries reads cost,
// and how waiters are woken, timed out, refused and released.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Offsets } from '../../src/api/after.ts'
import { AppliedOffsets, failedPollMs, nextPollGap } from '../../src/api/applied-offsets.ts'

function source(initial: [number, bigint][] = []) {
  let value: Offsets = new Map(initial)
  let fail = false
  const counter = { queries: 0 }
  return {
    counter,
    set: (pairs: [number, bigint][]) => {
      value = new Map(pairs)
    },
    failing: (on: boolean) => {
      fail = on
    },
    read: async () => {
      counter.queries++
      await sleep(1)
      if (fail) throw new Error('database down')
      return value
    },
  }
}

describe('AppliedOffsets', () => {
  it('serves reads from memory: one query per refresh interval, in the background, and a fresh one when stale', async () => {
    let now = 0
    const s = source([[0, 5n]])
    const applied = new AppliedOffsets({ read: s.read, refreshMs: 5, staleMs: 100, now: () => now })
    // Concurrent first reads share one query.
    const first = await Promise.all([applied.current(), applied.current(), applied.current()])
    assert.deepEqual(first[2], new Map([[0, 5n]]))
    assert.equal(s.counter.queries, 1)
    now = 4
    await Promise.all(Array.from({ length: 50 }, () => applied.current()))
    assert.equal(s.counter.queries, 1, 'within the refresh interval: no query')
    s.set([[0, 6n]])
    now = 6
    // Past the interval: the value in memory is served at once, and one query refreshes it behind.
    assert.deepEqual(await applied.current(), new Map([[0, 5n]]))
    await Promise.all(Array.from({ length: 20 }, () => applied.current()))
    assert.equal(s.counter.queries, 2)
    await sleep(5)
    assert.deepEqual(await applied.current(), new Map([[0, 6n]]))
    s.set([[0, 7n]])
    now = 500
    // Stale: the read waits for a fresh value.
    assert.deepEqual(await applied.current(), new Map([[0, 7n]]))
    assert.equal(s.counter.queries, 3)
  })

  it('wakes a waiter when a poll sees its offsets, and polls only while someone waits', async () => {
    const s = source([[0, 5n]])
    const applied = new AppliedOffsets({ read: s.read, refreshMs: 5 })
    assert.equal((await applied.waitFor(new Map([[0, 5n]]), 1000)).kind, 'covered')
    const waiting = applied.waitFor(new Map([[0, 8n]]), 5000)
    const other = applied.waitFor(
      new Map([
        [0, 6n],
        [1, 1n],
      ]),
      5000,
    )
    await sleep(40)
    assert.equal(applied.waiting, 2)
    const polled = s.counter.queries
    assert.ok(polled >= 3, `polled ${polled} times in 40 ms`)
    s.set([
      [0, 9n],
      [1, 0n],
    ])
    const outcome = await waiting
    assert.deepEqual(outcome, {
      kind: 'covered',
      offsets: new Map([
        [0, 9n],
        [1, 0n],
      ]),
    })
    assert.equal(applied.waiting, 1, 'partition 1 has not reached 1 yet')
    s.set([
      [0, 9n],
      [1, 1n],
    ])
    assert.equal((await other).kind, 'covered')
    await sleep(5)
    const after = s.counter.queries
    await sleep(50)
    assert.equal(s.counter.queries, after, 'no waiter, no poll')
  })

  it('times out with the latest offsets, and ends the wait on abort and on close', async () => {
    const s = source([[0, 1n]])
    const applied = new AppliedOffsets({ read: s.read, refreshMs: 5 })
    const started = Date.now()
    s.set([[0, 2n]])
    const timedOut = await applied.waitFor(new Map([[0, 100n]]), 60)
    assert.equal(timedOut.kind, 'timeout')
    assert.deepEqual(timedOut.offsets, new Map([[0, 2n]]))
    assert.ok(Date.now() - started >= 55)
    assert.equal((await applied.waitFor(new Map([[0, 100n]]), 0)).kind, 'timeout', 'no wait at all')

    const gone = new AbortController()
    const a = applied.waitFor(new Map([[0, 100n]]), 10_000, gone.signal)
    const b = applied.waitFor(new Map([[0, 100n]]), 10_000)
    await sleep(5)
    assert.equal(applied.waiting, 2)
    gone.abort()
    assert.equal((await a).kind, 'timeout')
    assert.equal(applied.waiting, 1)
    applied.close()
    assert.equal((await b).kind, 'timeout')
    assert.equal(applied.waiting, 0)
  })

  it('polls a failing database every failedPollMs, not every refresh interval, and recovers', async () => {
    const s = source([[0, 1n]])
    const applied = new AppliedOffsets({ read: s.read, refreshMs: 1 })
    await applied.current()
    s.failing(true)
    const waiting = applied.waitFor(new Map([[0, 3n]]), 5000)
    await sleep(failedPollMs * 3)
    assert.ok(s.counter.queries <= 6, `${s.counter.queries} queries in ${failedPollMs * 3} ms`)
    s.failing(false)
    s.set([[0, 3n]])
    assert.equal((await waiting).kind, 'covered')
    applied.close()
  })
})

describe('nextPollGap', () => {
  const bounds = { min: 5, max: 100 }
  it('doubles while nothing changes, up to the bound, and starts again at the least gap on a change', () => {
    const gaps = [5]
    for (let i = 0; i < 7; i++) gaps.push(nextPollGap(gaps.at(-1) ?? 0, false, bounds))
    assert.deepEqual(gaps, [5, 10, 20, 40, 80, 100, 100, 100])
    assert.equal(nextPollGap(100, true, bounds), 5)
    assert.equal(nextPollGap(1, false, bounds), 5, 'never below the least gap')
  })
})

describe('AppliedOffsets poll backoff', () => {
  it('asks less and less often while the offsets stay the same, and stops when no one waits', async () => {
    const s = source([[0, 1n]])
    const applied = new AppliedOffsets({ read: s.read, refreshMs: 5, maxPollMs: 100 })
    await applied.current()
    const before = s.counter.queries
    const waiting = applied.waitFor(new Map([[0, 9n]]), 600)
    assert.equal((await waiting).kind, 'timeout')
    await sleep(5)
    const polls = s.counter.queries - before
    // Gaps of 5, 10, 20, 40, 80, then 100 ms: about 9 queries in 600 ms, where a fixed 5 ms poll makes about 100.
    assert.ok(polls >= 5 && polls <= 14, `${polls} queries in 600 ms`)
    const idle = s.counter.queries
    await sleep(150)
    assert.equal(s.counter.queries, idle, 'no waiter, no poll')
  })

  it('polls at the least gap again when the offsets move or a new waiter comes', async () => {
    const s = source([[0, 1n]])
    const applied = new AppliedOffsets({ read: s.read, refreshMs: 5, maxPollMs: 100 })
    const slow = applied.waitFor(new Map([[0, 99n]]), 5000)
    await sleep(300)
    // Backed off to 100 ms by now: a new waiter brings the poll back to 5 ms, so a write it waits for that lands
    // just after is seen within a few ms, not up to 100 ms later.
    const arrived = s.counter.queries
    const fresh = applied.waitFor(new Map([[0, 2n]]), 5000)
    await sleep(45)
    // As it comes (the value in memory is refreshed behind it), then about 10 and 30 ms later; without the reset,
    // the 100 ms gap would allow two at most.
    assert.ok(s.counter.queries - arrived >= 3, `${s.counter.queries - arrived} queries in 45 ms after a new waiter`)
    s.set([[0, 2n]])
    const started = Date.now()
    assert.equal((await fresh).kind, 'covered')
    assert.ok(Date.now() - started < 60, `woken after ${Date.now() - started} ms`)
    // The offsets moved: the poll starts again at 5 ms (then 10, 20…) for the waiter that is left.
    const counted = s.counter.queries
    await sleep(30)
    assert.ok(s.counter.queries - counted >= 2, `${s.counter.queries - counted} queries in 30 ms after a change`)
    applied.close()
    assert.equal((await slow).kind, 'timeout')
  })
})
