// The eventId index against a real Redis: kept by the push and removal scripts in the same step as the list,
// read without scanning the list, rebuilt for entries older than the index.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  createRedisDlq,
  type DeadLetter,
  encodePayload,
  indexCompleteKeyOf,
  indexedEntries,
  indexKeyOf,
  producerCounterKeyOf,
} from '../../src/dlq/index.ts'
import { type Cleanup, redisPrefix } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'

const letter = (offset: number, eventId: string | null = `e-${offset}`): DeadLetter => ({
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

const refused = (n: number, eventId: string): DeadLetter => ({
  ...letter(n, eventId),
  topic: null,
  partition: null,
  offset: null,
  source: 'producer',
})

function queue(t: Cleanup, key: string) {
  const dlq = createRedisDlq({ addr: testServices.redisAddr, password: testServices.redisPassword, key })
  t.after(() => dlq.close())
  return dlq
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

describe('DLQ eventId index', () => {
  it('finds every entry of an eventId, newest first, with HGET and no LRANGE', async t => {
    const { redis, prefix } = redisPrefix(t)
    const key = `${prefix}dlq`
    const dlq = queue(t, key)
    await dlq.push([letter(1, 'a'), letter(2, 'b'), letter(3, 'a'), letter(4, null)])
    await dlq.push([refused(5, 'a'), letter(6, 'c')])
    await dlq.push([letter(3, 'a')]) // a repeat of a record already held: no second entry, no second index line

    const monitor = await redis.monitor()
    t.after(() => monitor.disconnect())
    const commands: string[] = []
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args.some(a => a.startsWith(key))) commands.push(String(args[0]).toLowerCase())
    })
    const found = await dlq.findByEventId('a')
    assert.deepEqual(
      found.map(l => [l.source, l.offset]),
      [
        ['producer', null],
        ['consumer', '3'],
        ['consumer', '1'],
      ],
    )
    assert.deepEqual(found[1], letter(3, 'a'), 'the entry comes back as it was pushed, escapes and all')
    assert.deepEqual(await dlq.findByEventId('missing'), [])
    await sleep(200) // MONITOR lines trail the replies
    assert.deepEqual([...new Set(commands)].sort(), ['exists', 'hget'])

    // The index holds exactly the entries that carry an eventId, by their exact text.
    const all = await dlq.range(0, -1)
    const index = await redis.hgetall(indexKeyOf(key))
    assert.deepEqual(Object.keys(index).sort(), ['a', 'b', 'c'])
    const indexed = Object.values(index).flatMap(v => indexedEntries(v))
    assert.deepEqual(
      indexed.sort(),
      all
        .filter(s => s.letter.eventId !== null)
        .map(s => s.entry)
        .sort(),
    )
  })

  it('takes removed entries off the index and the producer counter, in the same step', async t => {
    const { redis, prefix } = redisPrefix(t)
    const key = `${prefix}dlq`
    const dlq = queue(t, key)
    await dlq.push([letter(1, 'a'), letter(2, 'a'), refused(3, 'p'), refused(4, 'p')])
    const [first] = await dlq.findStoredByEventId('a')
    const producer = await dlq.findStoredByEventId('p')
    assert.ok(first && producer.length === 2)
    const counted = await redis.hgetall(producerCounterKeyOf(key))
    assert.deepEqual(counted.entries, '2')

    assert.deepEqual(await dlq.remove([first.entry, producer[0]?.entry as string]), [true, true])
    assert.deepEqual(await dlq.remove([first.entry]), [false], 'an entry already removed is reported, not repeated')
    assert.deepEqual(
      (await dlq.findByEventId('a')).map(l => l.offset),
      ['1'],
    )
    assert.equal((await dlq.findByEventId('p')).length, 1)
    assert.equal(await redis.llen(key), 2)
    const after = await redis.hgetall(producerCounterKeyOf(key))
    assert.equal(after.entries, '1')
    assert.equal(Number(after.bytes), Number(counted.bytes) - Buffer.byteLength(producer[0]?.entry as string))

    const rest = await dlq.range(0, -1)
    assert.deepEqual(await dlq.remove(rest.map(s => s.entry)), [true, true])
    assert.equal(await redis.exists(indexKeyOf(key)), 0, 'no field is left for an eventId without entries')
  })

  it('indexes entries older than the index at the first lookup, and on demand', async t => {
    const { redis, prefix } = redisPrefix(t)
    const key = `${prefix}dlq`
    // Entries pushed before the index existed: the list alone, no mark.
    const legacy = [letter(1, 'a'), letter(2, 'b'), letter(3, 'a'), letter(4, null)].map(l => JSON.stringify(l))
    for (const entry of legacy) await redis.lpush(key, entry)
    await redis.lpush(key, 'not json at all') // an entry written by hand is left alone, not fatal
    const dlq = queue(t, key)
    await dlq.push([letter(5, 'a')]) // a push onto a list that was not empty does not claim the index complete
    assert.equal(await redis.exists(indexCompleteKeyOf(key)), 0)

    assert.deepEqual(
      (await dlq.findByEventId('a')).map(l => l.offset),
      ['5', '3', '1'],
    )
    assert.equal(await redis.exists(indexCompleteKeyOf(key)), 1)
    assert.deepEqual(
      (await dlq.findByEventId('b')).map(l => l.offset),
      ['2'],
    )
    await redis.hdel(indexKeyOf(key), 'b') // an index damaged by hand is rebuilt on demand
    assert.equal(await dlq.reindex(), 4)
    assert.deepEqual(
      (await dlq.findByEventId('b')).map(l => l.offset),
      ['2'],
    )
  })

  it('rebuilds a list longer than one page of the rebuild script, oldest first', async t => {
    const { redis, prefix } = redisPrefix(t)
    const key = `${prefix}dlq`
    const entries = Array.from({ length: 2500 }, (_, n) => JSON.stringify(letter(n, `e-${n % 7}`)))
    for (let i = 0; i < entries.length; i += 500) await redis.lpush(key, ...entries.slice(i, i + 500))
    const dlq = queue(t, key)
    assert.equal(await dlq.reindex(), 2500)
    const found = await dlq.findByEventId('e-3')
    const expected = Array.from({ length: 2500 }, (_, n) => n)
      .filter(n => n % 7 === 3)
      .reverse()
      .map(String)
    assert.deepEqual(
      found.map(l => l.offset),
      expected,
    )
  })

  it('starts a fresh index when the list was deleted by hand', async t => {
    const { redis, prefix } = redisPrefix(t)
    const key = `${prefix}dlq`
    const dlq = queue(t, key)
    await dlq.push([letter(1, 'a')])
    await redis.del(key)
    await dlq.push([refused(2, 'b')])
    assert.deepEqual(await dlq.findByEventId('a'), [], 'the deleted entry is not found')
    assert.equal((await dlq.findByEventId('b')).length, 1)
    assert.deepEqual(Object.keys(await redis.hgetall(indexKeyOf(key))), ['b'])
  })
})
