// What a sweep tick and a look after a batch ask of the store, driven over a fake store: the recent rows since the
// previous tick, one page of the walk over parent keys, the keys the lanes name, and the capped count.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Registry } from 'prom-client'
import { createPendingSweeper } from '../../src/consumer/pending.ts'
import type { DeadLetterQueue } from '../../src/dlq/index.ts'
import { consumerMetrics, createLogger } from '../../src/observability/index.ts'
import type { PendingScope, PendingStats, Store } from '../../src/store/index.ts'

interface Calls {
  resolves: PendingScope[]
  walks: (string | undefined)[]
}

function fakeStore(parents: readonly string[], stats: PendingStats, calls: Calls): Store {
  const store: Partial<Store> = {
    resolvePending: async (_limit, scope) => {
      calls.resolves.push(scope ?? 'all')
      return 0
    },
    pendingParents: async (after, limit) => {
      calls.walks.push(after)
      return parents.filter(p => after === undefined || p > after).slice(0, limit)
    },
    claimExpired: async () => [],
    removePending: async () => {},
    pendingStats: async () => stats,
    pruneEventLog: async () => 0,
  }
  return store as Store
}

function sweeper(store: Store, clock: { now: number }, registry = new Registry(), over = {}) {
  return createPendingSweeper({
    store,
    dlq: { push: async () => {} } as unknown as DeadLetterQueue,
    logger: createLogger('silent', 'test'),
    metrics: consumerMetrics(registry),
    maxAgeMs: 24 * 3600_000,
    now: () => clock.now,
    recentMs: 30_000,
    walkPage: 2,
    ...over,
  })
}

const iso = (ms: number) => new Date(ms).toISOString()

describe('the pending sweeper', () => {
  it('looks at the rows stored since its previous tick less recentMs, and walks the parent keys a page a tick', async () => {
    const calls: Calls = { resolves: [], walks: [] }
    const clock = { now: Date.parse('2026-01-01T00:01:00.000Z') }
    const s = sweeper(fakeStore(['a', 'b', 'c'], { count: 3, capped: false, oldestSince: undefined }, calls), clock)
    await s.tick()
    clock.now += 1000
    await s.tick()
    clock.now += 5000
    await s.tick()
    assert.deepEqual(calls.resolves, [
      { since: iso(Date.parse('2026-01-01T00:00:30.000Z')) },
      { parents: ['a', 'b'] },
      { since: iso(Date.parse('2026-01-01T00:00:30.000Z')) },
      { parents: ['c'] },
      { since: iso(Date.parse('2026-01-01T00:00:31.000Z')) },
      { parents: ['a', 'b'] },
    ])
    // A short page ends a round; the next tick starts from the first key again.
    assert.deepEqual(calls.walks, [undefined, 'b', undefined])
  })

  it('sets the gauges from the capped count', async () => {
    const registry = new Registry()
    const calls: Calls = { resolves: [], walks: [] }
    const clock = { now: Date.parse('2026-01-01T00:00:00.000Z') }
    const stats = { count: 100_000, capped: true, oldestSince: '2025-12-31T23:59:00.000Z' }
    const result = await sweeper(fakeStore([], stats, calls), clock, registry).tick()
    assert.deepEqual(result?.stats, stats)
    const metrics = await registry.getMetricsAsJSON()
    const value = (name: string) => metrics.find(m => m.name === name)?.values[0]?.value
    assert.equal(value('pending_events'), 100_000)
    assert.equal(value('pending_events_capped'), 1)
    assert.equal(value('pending_oldest_age_seconds'), 60)
  })

  it('looks after batches by the parent keys they name, once for many, and by recent rows past maxSoonKeys', async () => {
    const calls: Calls = { resolves: [], walks: [] }
    const clock = { now: Date.parse('2026-01-01T00:00:00.000Z') }
    const s = sweeper(fakeStore([], { count: 0, capped: false, oldestSince: undefined }, calls), clock, undefined, {
      maxSoonKeys: 3,
    })
    s.resolveSoon(['u1', 'u2'], 1)
    s.resolveSoon(['u2', 'u3'], 1)
    await new Promise(resolve => setTimeout(resolve, 30))
    s.resolveSoon(['u1', 'u2', 'u3', 'u4'], 1)
    await new Promise(resolve => setTimeout(resolve, 30))
    await s.close()
    assert.deepEqual(calls.resolves, [{ parents: ['u1', 'u2', 'u3'] }, { since: iso(clock.now - 30_000) }])
  })
})
