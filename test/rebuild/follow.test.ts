// The pieces around the rebuild's consumers: a store whose marks are seen as given (the gap after a swap must
// not be skipped because the live consumer's marks passed it), and the bounded wait for a condition.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { until, withMarks } from '../../src/rebuild/follow.ts'
import { createStore } from '../../src/store/index.ts'
import { sqliteFile } from '../helpers/resources.ts'

describe('rebuild consumers', () => {
  it('sees the marks it is given, and everything else of the store as it is', async t => {
    const store = await createStore({ engine: 'sqlite', path: sqliteFile(t) })
    t.after(() => store.close())
    await store.migrate()
    const source = { topic: 't', partition: 0, offset: 41n }
    await store.applyBatch([], [{ ...source, topicId: 'id-1' }])
    assert.deepEqual(await store.handledThrough('t', 'id-1'), new Map([[0, 41n]]))
    const seen = withMarks(store, new Map([[0, 9n]]))
    assert.deepEqual(await seen.handledThrough('t', 'id-1'), new Map([[0, 9n]]))
    // Writes and other reads go to the store itself.
    assert.deepEqual(await seen.appliedOffsets('t'), new Map([[0, 41n]]))
    await seen.applyBatch([], [{ ...source, offset: 50n, topicId: 'id-1' }])
    assert.deepEqual(await store.appliedOffsets('t'), new Map([[0, 50n]]))
    assert.equal(seen.engine, 'sqlite')
  })

  it('waits until the condition holds, gives up at its deadline, and stops when aborted', async () => {
    let calls = 0
    assert.equal(await until(async () => ++calls === 3, { everyMs: 5, timeoutMs: 1000 }), true)
    assert.equal(calls, 3)
    const started = Date.now()
    assert.equal(await until(async () => false, { everyMs: 10, timeoutMs: 50 }), false)
    assert.ok(Date.now() - started < 500)
    const abort = new AbortController()
    setTimeout(() => abort.abort(), 20)
    assert.equal(await until(async () => false, { everyMs: 5, timeoutMs: 10_000, signal: abort.signal }), false)
  })
})
