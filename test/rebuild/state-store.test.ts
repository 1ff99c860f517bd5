// A store's rebuild in the real Redis: begins race to one winner, states move only from the states the table
// allows and only for their own rebuild, and the lease is one process's at a time.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { RebuildError } from '../../src/rebuild/errors.ts'
import { RebuildStore } from '../../src/rebuild/state-store.ts'
import { redisPrefix } from '../helpers/resources.ts'

const meta = (id: number) => JSON.stringify({ id, generation: `rebuild_${id}` })

describe('rebuild state in Redis', () => {
  it('lets one of many racing begins through, and the next only once the first is finished', async t => {
    const { redis, prefix } = redisPrefix(t)
    const store = new RebuildStore(redis, `${prefix}dlq`, 'abcdef0123456789')
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => store.begin(new Date().toISOString())))
    const won = outcomes.filter(o => o.status === 'fulfilled')
    assert.equal(won.length, 1)
    assert.ok(
      outcomes
        .filter(o => o.status === 'rejected')
        .every(
          o =>
            o.reason instanceof RebuildError &&
            o.reason.kind === 'busy' &&
            /rebuild 1 .* is creating/.test(o.reason.message),
        ),
    )
    await store.write(1, undefined, { meta: meta(1) })
    await store.write(1, 'filling')
    await store.write(1, 'aborted')
    assert.equal(await store.begin(new Date().toISOString()), 2)
    const record = await store.read()
    assert.equal(record?.id, 2)
    assert.equal(record?.state, 'creating')
    assert.equal(record?.meta, undefined, 'a new rebuild starts with a clean hash')
  })

  it('moves a state only from one the table allows, and only for its own rebuild', async t => {
    const { redis, prefix } = redisPrefix(t)
    const store = new RebuildStore(redis, `${prefix}dlq`, 'abcdef0123456789')
    const id = await store.begin(new Date().toISOString())
    await assert.rejects(store.write(id, 'swapped'), /rebuild 1 is creating: it cannot become swapped/)
    await store.write(id, 'filling', { progress: '{"lag":3}' })
    assert.equal((await store.read())?.state, 'filling')
    assert.equal(await store.tryWrite(id + 1, 'caught-up'), false)
    assert.equal(await store.tryWrite(id, 'caught-up'), true)
    await assert.rejects(store.write(7, undefined, { bad: '{}' }), /rebuild 7 is no longer this store's rebuild/)
  })

  it('holds the lease for one process at a time, renewed only by its holder', async t => {
    const { redis, prefix } = redisPrefix(t)
    const store = new RebuildStore(redis, `${prefix}dlq`, 'abcdef0123456789')
    await assert.rejects(store.lease('a', 1000), (e: unknown) => e instanceof RebuildError && e.kind === 'absent')
    const id = await store.begin(new Date().toISOString())
    await store.write(id, undefined, { meta: meta(id) })
    const a = await store.lease('a', 5000)
    assert.match(a ?? '', /^1 a$/)
    assert.equal(await store.lease('b', 5000), undefined)
    assert.equal(await store.renew('2 b', 5000), false)
    assert.equal(await store.renew(a as string, 5000), true)
    assert.ok((await store.leaseLeft()) > 4000)
    await store.release('2 b')
    assert.ok((await store.leaseLeft()) > 0, 'only its holder releases it')
    await store.release(a as string)
    assert.equal(await store.leaseLeft(), 0)
    assert.match((await store.lease('b', 5000)) ?? '', /^2 b$/)
  })
})
