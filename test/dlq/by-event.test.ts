// The eventId index against a real Redis: kept by the push and removal scripts in the same step as the list,
// read a page at a time without scanning the list, rebuilt in steps for entries older than the index.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  createRedisDlq,
  type DeadLetter,
  type DeadLetterQueue,
  dlqKeys,
  encodePayload,
  legacyKeysOf,
} from '../../src/dlq/index.ts'
import { type Cleanup, keysMatching, monitorOf, redisPrefix, standaloneOnly } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'

export const letter = (offset: number, eventId: string | null = `e-${offset}`): DeadLetter => ({
  eventId,
  topic: 'events',
  partition: 0,
  offset: String(offset),
  key: 'k',
  ...encodePayload(Buffer.from(`{"n":${offset},"text":"line\\nbreak \\"quoted\\" é ✓"}`)),
  error: { code: 'SCHEMA_VIOLATION', message: 'bad\nworse' },
  attempts: 1,
  failedAt: new Date(offset).toISOString(),
  source: 'consumer',
})

export const refused = (n: number, eventId: string): DeadLetter => ({
  ...letter(n, eventId),
  topic: null,
  partition: null,
  offset: null,
  source: 'producer',
})

function queue(t: Cleanup, key: string, options: { rebuildWaitMs?: number } = {}) {
  const dlq = createRedisDlq({ addr: testServices.redisAddr, password: testServices.redisPassword, key, ...options })
  t.after(() => dlq.close())
  return dlq
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

async function allOf(dlq: DeadLetterQueue, eventId: string, order: 'newest' | 'oldest' = 'newest') {
  const found: DeadLetter[] = []
  for await (const s of dlq.eventEntries(eventId, order)) found.push(s.letter)
  return found
}

const offsets = (letters: readonly DeadLetter[]) => letters.map(l => l.offset)

describe('DLQ eventId index', () => {
  it('finds the entries of an eventId a page at a time, newest first, without reading the list', async t => {
    const { redis, prefix } = redisPrefix(t)
    const key = `${prefix}dlq`
    const dlq = queue(t, key)
    await dlq.push([letter(1, 'a'), letter(2, 'b'), letter(3, 'a'), letter(4, null)])
    await dlq.push([refused(5, 'a'), letter(6, 'c')])
    await dlq.push([letter(3, 'a')]) // a repeat of a record already held: no second entry, no second index member

    const monitor = await monitorOf(t, redis, key)
    const commands: string[] = []
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args.some(a => a.includes(key))) commands.push(String(args[0]).toLowerCase())
    })
    const first = await dlq.eventPage('a', 2)
    assert.deepEqual(
      first.entries.map(s => [s.letter.source, s.letter.offset]),
      [
        ['producer', null],
        ['consumer', '3'],
      ],
    )
    assert.equal(first.total, 3)
    assert.ok(first.next !== null)
    assert.deepEqual(first.entries[1]?.letter, letter(3, 'a'), 'the entry comes back as it was pushed, escapes and all')
    const second = await dlq.eventPage('a', 2, first.next)
    assert.deepEqual(offsets(second.entries.map(s => s.letter)), ['1'])
    assert.equal(second.next, null)
    assert.deepEqual(offsets(await allOf(dlq, 'a', 'oldest')), ['1', '3', null])
    assert.deepEqual(await dlq.eventPage('missing', 10), { entries: [], total: 0, next: null })
    await sleep(200) // MONITOR lines trail the replies
    assert.ok(!commands.includes('lrange'), `no LRANGE: ${commands.join(' ')}`)
    await assert.rejects(dlq.eventPage('a', 2, 'not-a-cursor'), /cursor/)
  })

  it('takes removed entries off the index and the counters, in the same step', async t => {
    const { redis, prefix } = redisPrefix(t)
    const key = `${prefix}dlq`
    const dlq = queue(t, key)
    await dlq.push([letter(1, 'a'), letter(2, 'a'), refused(3, 'p'), refused(4, 'p')])
    const [first] = (await dlq.eventPage('a', 10)).entries
    const producer = (await dlq.eventPage('p', 10)).entries
    assert.ok(first && producer.length === 2)
    const before = await dlq.usage()
    assert.equal(before.producer.entries, 2)
    assert.equal(before.consumer.entries, 2)

    assert.deepEqual(await dlq.remove([first.entry, producer[0]?.entry as string]), [true, true])
    assert.deepEqual(await dlq.remove([first.entry]), [false], 'an entry already removed is reported, not repeated')
    assert.deepEqual(offsets(await allOf(dlq, 'a')), ['1'])
    assert.equal((await allOf(dlq, 'p')).length, 1)
    assert.equal(await redis.llen(key), 2)
    const after = await dlq.usage()
    assert.equal(after.producer.entries, 1)
    assert.equal(after.producer.bytes, before.producer.bytes - Buffer.byteLength(producer[0]?.entry as string))
    assert.equal(after.consumer.bytes, before.consumer.bytes - Buffer.byteLength(first.entry))

    const rest = await dlq.range(0, -1)
    assert.deepEqual(await dlq.remove(rest.map(s => s.entry)), [true, true])
    const keys = dlqKeys(key)
    const gen = await redis.hget(keys.meta, 'gen')
    const left = await keysMatching(redis, `${keys.prefix.replace(/[{}]/g, c => `\\${c}`)}ev*:${gen}*`)
    assert.deepEqual(left, [], 'no set is left for an eventId without entries')
  })

  it('keeps identical entries apart: each removal takes one', async t => {
    const { prefix } = redisPrefix(t)
    const dlq = queue(t, `${prefix}dlq`)
    const twin = refused(7, 'twin')
    await dlq.push([twin, twin, twin])
    const page = await dlq.eventPage('twin', 10)
    assert.equal(page.entries.length, 3)
    assert.deepEqual(await dlq.remove([page.entries[0]?.entry as string]), [true])
    assert.equal((await allOf(dlq, 'twin')).length, 2)
    assert.equal(await dlq.length(), 2)
  })

  it('indexes entries of an earlier version in steps, moving its keys, and on demand', async t => {
    if (standaloneOnly(t, "an earlier version's key names are in other slots; a cluster never held them")) return
    const { redis, prefix } = redisPrefix(t)
    const key = `${prefix}dlq`
    const legacy = legacyKeysOf(key)
    // Entries pushed by an earlier version: the list, its old index and counter, its seen-set under the old name.
    const old = [letter(1, 'a'), letter(2, 'b'), letter(3, 'a'), letter(4, null)].map(l => JSON.stringify(l))
    for (const entry of old) await redis.lpush(key, entry)
    await redis.lpush(key, 'not json at all') // an entry written by hand is left alone, not fatal
    await redis.hset(legacy.index, 'a', 'stale')
    await redis.set(legacy.indexComplete, '1')
    await redis.hset(legacy.producerCounter, 'entries', 9)
    await redis.zadd(legacy.seen, String(Date.now() - 2), 'events/0/1', String(Date.now() - 1), 'events/0/2')
    const dlq = queue(t, key)
    await dlq.push([letter(5, 'a')])

    assert.deepEqual(offsets(await allOf(dlq, 'a')), ['5', '3', '1'])
    assert.deepEqual(offsets(await allOf(dlq, 'b')), ['2'])
    assert.equal(await redis.exists(legacy.index, legacy.indexComplete, legacy.producerCounter, legacy.seen), 0)
    assert.deepEqual(await redis.zrange(dlqKeys(key).seen, '0', '-1'), ['events/0/1', 'events/0/2', 'events/0/5'])
    await dlq.push([letter(1, 'a')]) // remembered under the new name: not pushed again
    assert.equal(await dlq.length(), 6)
    const usage = await dlq.usage()
    assert.equal(usage.consumer.entries, 6, 'the rebuild counted every entry, the hand-written one included')

    assert.equal(await dlq.reindex(), 6)
    assert.deepEqual(offsets(await allOf(dlq, 'b')), ['2'])
    assert.deepEqual(offsets(await allOf(dlq, 'a')), ['5', '3', '1'])
  })

  it('rebuilds a list longer than one step, oldest first, while pushes go on', async t => {
    const { redis, prefix } = redisPrefix(t)
    const key = `${prefix}dlq`
    const entries = Array.from({ length: 5500 }, (_, n) => JSON.stringify(letter(n, `e-${n % 7}`)))
    for (let i = 0; i < entries.length; i += 500) await redis.lpush(key, ...entries.slice(i, i + 500))
    const dlq = queue(t, key)
    const rebuilding = dlq.reindex()
    await dlq.push([letter(6000, 'e-3')])
    // The push lands before the rebuild starts (and is walked by it) or after (and is indexed by the push).
    assert.ok([5500, 5501].includes(await rebuilding))
    const expected = [6000, ...Array.from({ length: 5500 }, (_, n) => n).filter(n => n % 7 === 3)].sort((x, y) => y - x)
    assert.deepEqual(offsets(await allOf(dlq, 'e-3')), expected.map(String))
  })

  it('rebuilds on reindex also when it first had to wait for the rebuild lease', async t => {
    const { redis, prefix } = redisPrefix(t)
    const key = `${prefix}dlq`
    const dlq = queue(t, key)
    await dlq.push([letter(1, 'a'), letter(2, 'b'), letter(3, 'a')])
    assert.equal((await dlq.usage()).indexed, true)
    await redis.set(dlqKeys(key).rebuildLease, 'someone else', 'PX', 300)
    assert.equal(await dlq.reindex(), 3, 'a fresh rebuild, whose count is the whole list')
    assert.deepEqual(offsets(await allOf(dlq, 'a')), ['3', '1'])
  })

  it('makes lookups wait for one rebuild, and removals too', async t => {
    const { redis, prefix } = redisPrefix(t)
    const key = `${prefix}dlq`
    const entries = Array.from({ length: 3000 }, (_, n) => JSON.stringify(letter(n, `e-${n % 3}`)))
    for (let i = 0; i < entries.length; i += 500) await redis.lpush(key, ...entries.slice(i, i + 500))
    const readers = Array.from({ length: 5 }, () => queue(t, key))
    const pages = await Promise.all(readers.map(dlq => dlq.eventPage('e-1', 5)))
    for (const page of pages) assert.equal(page.total, 1000)
    const target = pages[0]?.entries[0]?.entry as string
    assert.deepEqual(await readers[1]?.remove([target]), [true])
    assert.equal((await readers[2]?.eventPage('e-1', 1))?.total, 999)
  })

  it('starts a fresh index when the list was deleted by hand, and drops the old one in steps', async t => {
    const { redis, prefix } = redisPrefix(t)
    const key = `${prefix}dlq`
    const dlq = queue(t, key)
    await dlq.push(Array.from({ length: 30 }, (_, n) => letter(n, `x-${n}`)))
    const keys = dlqKeys(key)
    const oldGen = await redis.hget(keys.meta, 'gen')
    await redis.del(key)
    await dlq.push([refused(100, 'b')])
    assert.deepEqual(await allOf(dlq, 'x-1'), [], 'the deleted entry is not found')
    assert.equal((await allOf(dlq, 'b')).length, 1)
    assert.notEqual(await redis.hget(keys.meta, 'gen'), oldGen)
    for (let n = 0; n < 5; n++) await dlq.push([letter(200 + n, 'c')])
    assert.equal(await redis.exists(`${keys.prefix}evs:${oldGen}`), 0, 'the old generation was deleted by pushes')
    assert.equal(await redis.llen(`${keys.prefix}stale`), 0)
  })

  it('keeps counts by code and by type as entries come and go, at most a thousand names', async t => {
    const { prefix } = redisPrefix(t)
    const dlq = queue(t, `${prefix}dlq`)
    const typed = (n: number, type: string): DeadLetter => ({
      ...letter(n),
      ...encodePayload(Buffer.from(JSON.stringify({ type, n }))),
    })
    await dlq.push([typed(1, 'OrderPlaced'), typed(2, 'OrderPlaced'), typed(3, 'UserCreated'), letter(4)])
    let tally = await dlq.tally()
    assert.equal(tally.total, 4)
    assert.deepEqual({ ...tally.byType }, { OrderPlaced: 2, UserCreated: 1, '(none)': 1 })
    assert.deepEqual({ ...tally.byCode }, { SCHEMA_VIOLATION: 4 })
    assert.equal(tally.oldest, letter(1).failedAt)
    assert.equal(tally.newest, letter(4).failedAt)
    const [entry] = (await dlq.eventPage('e-1', 1)).entries
    await dlq.remove([entry?.entry as string])
    tally = await dlq.tally()
    assert.deepEqual({ ...tally.byType }, { OrderPlaced: 1, UserCreated: 1, '(none)': 1 })

    // An attacker inventing types: past a thousand names they are counted together.
    const many = Array.from({ length: 1100 }, (_, n) => typed(100 + n, `T${n}`))
    await dlq.push(many)
    tally = await dlq.tally()
    assert.ok(Object.keys(tally.byType).length <= 1001, `${Object.keys(tally.byType).length} names`)
    const counted = Object.values(tally.byType).reduce((a, b) => a + b, 0)
    assert.equal(counted, tally.total, 'every entry counted once')
    assert.ok((tally.byType['(other)'] ?? 0) > 0)
  })
})
