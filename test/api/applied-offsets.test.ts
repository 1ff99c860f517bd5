// The in-memory applied offsets of the read API, over a counted read function: how many queries reads cost,
// and how waiters are woken, timed out, refused and released.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Offsets } from '../../src/api/after.ts'
import { AppliedOffsets, failedPollMs } from '../../src/api/applied-offsets.ts'

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
    const applied = new AppliedOffsets({ read: s.read, maxWaiters: 10, refreshMs: 5, staleMs: 100, now: () => now })
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
    const applied = new AppliedOffsets({ read: s.read, maxWaiters: 10, refreshMs: 5 })
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

  it('times out with the latest offsets, refuses past maxWaiters, frees a place on abort and on close', async () => {
    const s = source([[0, 1n]])
    const applied = new AppliedOffsets({ read: s.read, maxWaiters: 2, refreshMs: 5 })
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
    assert.equal((await applied.waitFor(new Map([[0, 100n]]), 10_000)).kind, 'busy')
    gone.abort()
    assert.equal((await a).kind, 'timeout')
    assert.equal(applied.waiting, 1)
    applied.close()
    assert.equal((await b).kind, 'timeout')
    assert.equal(applied.waiting, 0)
  })

  it('polls a failing database every failedPollMs, not every refresh interval, and recovers', async () => {
    const s = source([[0, 1n]])
    const applied = new AppliedOffsets({ read: s.read, maxWaiters: 5, refreshMs: 1 })
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
