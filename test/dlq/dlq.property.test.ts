// The Redis dead-letter queue against the reference model (dlq-model.ts): generated sequences of pushes (repeated
// records, identical producer entries, small caps that stop or drop), removals (claimed entries left alone), hand
// deletions of the list, reindexes, and entries an earlier version left in the list, must leave exactly the model's
// list, lookups by eventId (paged newest and oldest first, small pages), counters and length. What Redis holds is
// read with plain commands; the lookups and counters through the queue.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  companionKey,
  createRedisDlq,
  type DeadLetter,
  type DeadLetterQueue,
  dlqKeys,
  encodePayload,
  type RedisClient as Redis,
} from '../../src/dlq/index.ts'
import { PipelineError } from '../../src/errors.ts'
import { keysMatching, redisPrefix } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'
import { type Cap, DlqModel, type ModelCaps, type ModelEntry } from './dlq-model.ts'

const full = process.env['FAULTS_FULL'] === '1'

// Small pools, so eventIds, records and producer entries collide often.
const eventIds = ['a', 'b', 'c', null] as const
const lookedUp = ['a', 'b', 'c', 'missing']
const records = 10
const refusals = 6
// Kafka keys and payload types of consumer entries: two keys share records, types of every class and none.
const kafkaKeys = ['u1', 'u2', null] as const
const types = ['UserCreated', 'OrderPlaced', null, 'InventoryAdjusted', 'PaymentSettled'] as const
const classOf = { UserCreated: 'u', OrderPlaced: 'o', PaymentSettled: 'p', InventoryAdjusted: 'i' } as const
const askedKeys = ['u1', 'u2', 'missing']
const askedClasses = ['u', 'o', 'p', 'i', '?'] as const
const askedAfter = [undefined, 2, 6]
const classNames = { u: 'users', o: 'orders', p: 'payments', i: 'inventory', '?': 'unknown' } as const

const pick = <T>(pool: readonly T[], i: number): T => pool[i % pool.length] as T

/** The dead letter of record `offset`: the same record always makes the same entry. */
const typeOf = (offset: number) => pick(types, Math.floor(offset / 2))
const consumerLetter = (offset: number): DeadLetter => ({
  eventId: pick(eventIds, offset),
  topic: 'events',
  partition: offset % 2,
  offset: String(offset),
  key: pick(kafkaKeys, offset),
  ...encodePayload(
    Buffer.from(
      `{${typeOf(offset) === null ? '' : `"type":"${typeOf(offset)}",`}"n":${offset},"pad":"${'x'.repeat(40 * (offset % 4))}","é":"✓"}`,
    ),
  ),
  error: { code: 'SCHEMA_VIOLATION', message: 'bad' },
  attempts: 1,
  failedAt: new Date(offset).toISOString(),
  source: 'consumer',
})

/** A refused request: the same (n, variant) makes identical texts, as two requests alike to the millisecond do. */
const producerLetter = (n: number, variant: number): DeadLetter => ({
  eventId: pick(eventIds, n),
  topic: null,
  partition: null,
  offset: null,
  key: null,
  ...encodePayload(Buffer.from(`{"n":${n},"v":"${'y'.repeat(30 * variant)}"}`)),
  error: { code: 'SCHEMA_VIOLATION', message: `refused #${n}` },
  attempts: 1,
  failedAt: new Date(1000 + variant).toISOString(),
  source: 'producer',
})

const notJson = 'not json at all'

const modelEntry = (letter: DeadLetter): ModelEntry => {
  const offset = Number(letter.offset)
  const type = letter.offset === null ? null : typeOf(offset)
  return {
    text: JSON.stringify(letter),
    eventId: letter.eventId,
    writer: letter.source,
    record: letter.topic === null ? '' : `${letter.topic}/${letter.partition}/${letter.offset}`,
    ...(letter.topic === null || letter.key === null || letter.partition === null
      ? {}
      : {
          place: {
            key: letter.key,
            class: type === null ? '?' : classOf[type],
            partition: letter.partition,
            offset,
            eventId: letter.eventId,
          },
        }),
  }
}

type Item = { producer: boolean; n: number; variant: number }
type Op =
  | { kind: 'push'; items: Item[] }
  | { kind: 'remove'; picks: number[] }
  | { kind: 'removeUnclaimed'; picks: number[]; claims: boolean[] }
  | { kind: 'delete' }
  | { kind: 'reindex' }
  | { kind: 'check' }

const item: fc.Arbitrary<Item> = fc.record({
  producer: fc.boolean(),
  n: fc.nat({ max: records - 1 }),
  variant: fc.nat({ max: 1 }),
})
const picks = fc.array(fc.nat(), { minLength: 1, maxLength: 4 })
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ kind: fc.constant('push' as const), items: fc.array(item, { maxLength: 5 }) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('remove' as const), picks }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('removeUnclaimed' as const),
      picks,
      claims: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reindex' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('check' as const) }) },
)
const caps: fc.Arbitrary<ModelCaps> = fc.record({
  maxEntries: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.constant(1000)),
  maxBytes: fc.oneof(fc.integer({ min: 300, max: 3000 }), fc.constant(1_000_000)),
})
/** What an earlier version left in the list: consumer entries (not remembered as pushed), producer ones, junk. */
const legacy = fc.option(fc.array(fc.oneof(item, fc.constant('junk' as const)), { minLength: 1, maxLength: 6 }), {
  freq: 4,
})
const scenario = fc.record({
  consumer: caps,
  producer: caps,
  pageSize: fc.integer({ min: 1, max: 4 }),
  legacy,
  ops: fc.array(op, { minLength: 1, maxLength: 25 }),
})
type Scenario = typeof scenario extends fc.Arbitrary<infer S> ? S : never

const letterOf = (i: Item) => (i.producer ? producerLetter(i.n % refusals, i.variant) : consumerLetter(i.n))
const digest = (text: string) => createHash('sha256').update(text).digest('hex')

/** Every entry of `eventId` a page of `size` at a time, checking the cursors: texts in the order read. */
async function paged(dlq: DeadLetterQueue, eventId: string, size: number, order: 'newest' | 'oldest') {
  const texts: string[] = []
  let cursor: string | undefined
  let total: number | undefined
  for (let pages = 0; ; pages++) {
    assert.ok(pages <= 200, `${eventId}: paging does not end`)
    const page = await dlq.eventPage(eventId, size, cursor, order)
    total ??= page.total
    assert.equal(page.total, total, `${eventId}: the total changed between pages`)
    texts.push(...page.entries.map(e => e.entry))
    if (page.next === null) return { texts, total }
    assert.ok(page.entries.length > 0, `${eventId}: an empty page that is not the last`)
    cursor = page.next
  }
}

async function assertSame(redis: Redis, key: string, dlq: DeadLetterQueue, model: DlqModel, pageSize: number) {
  assert.deepEqual(
    await redis.lrange(key, 0, -1),
    model.list.map(e => e.text),
    'the list',
  )
  assert.equal(await dlq.length(), model.list.length, 'length()')
  for (const eventId of lookedUp) {
    const expected = model.lookup(eventId)
    const newest = await paged(dlq, eventId, pageSize, 'newest')
    assert.deepEqual(newest.texts, expected, `lookup of ${eventId}, newest first, pages of ${pageSize}`)
    assert.equal(newest.total, model.total(eventId), `total of ${eventId}`)
    const oldest = await paged(dlq, eventId, pageSize, 'oldest')
    assert.deepEqual(oldest.texts, [...expected].reverse(), `lookup of ${eventId}, oldest first`)
    const all: string[] = []
    for await (const found of dlq.eventEntries(eventId)) all.push(found.entry)
    assert.deepEqual(all, expected, `eventEntries(${eventId})`)
  }
  // The key summary: every asked (key, class, after) in one call, against the model.
  const asked = askedKeys.flatMap(key => askedClasses.flatMap(c => askedAfter.map(at => ({ key, c, at }))))
  const answers = await dlq.keySummaries(
    asked.map(q => ({ class: classNames[q.c], key: q.key, after: q.at === undefined ? undefined : String(q.at) })),
  )
  assert.equal(answers.length, asked.length, 'one answer per question')
  for (const [i, q] of asked.entries()) {
    const got = answers[i]
    const want = model.keySummary(q.c, q.key, q.at)
    const what = `key summary of ${q.key} (${q.c}) after ${q.at}`
    assert.equal(got?.count, want.count, `${what}: count`)
    const named = want.newest.map(p =>
      JSON.stringify({ eventId: p.eventId, partition: p.partition, offset: `${p.offset}` }),
    )
    if (want.count === 0) assert.equal(got?.newest, null, `${what}: newest`)
    else {
      const n = got?.newest
      const shown = JSON.stringify(n && { eventId: n.eventId, partition: n.partition, offset: n.offset })
      assert.ok(named.includes(shown), `${what}: newest ${shown} not in ${named}`)
    }
  }
  const usage = await dlq.usage()
  assert.ok(usage.indexed, 'the index covers the list')
  assert.deepEqual(
    { consumer: { entries: usage.consumer.entries, bytes: usage.consumer.bytes }, producer: usage.producer },
    { consumer: model.usage().consumer, producer: { ...model.usage().producer, caps: usage.producer.caps } },
    'usage()',
  )
}

/** The eventId sets of the queue's current index generation. */
async function indexSets(redis: Redis, key: string): Promise<string[]> {
  const keys = dlqKeys(key)
  const gen = (await redis.hget(keys.meta, 'gen')) ?? '0'
  const pattern = `${keys.prefix.replace(/[{}[\]*?\\]/g, c => `\\${c}`)}ev:${gen}:*`
  return keysMatching(redis, pattern)
}

async function run(redis: Redis, key: string, s: Scenario): Promise<void> {
  const model = new DlqModel({ consumer: s.consumer, producer: s.producer })
  const known = new Set<string>()
  if (s.legacy !== null) {
    const entries = s.legacy.map(l =>
      l === 'junk'
        ? { text: notJson, eventId: null, writer: 'consumer' as const, record: '' }
        : modelEntry(letterOf(l)),
    )
    for (const e of entries) {
      await redis.lpush(key, e.text)
      known.add(e.text)
    }
    model.handPush(entries)
  }
  const dlq = createRedisDlq({
    addr: testServices.redisAddr,
    password: testServices.redisPassword,
    key,
    consumerCaps: s.consumer,
    producerCaps: s.producer,
  })
  // After a hand deletion the index of the deleted entries is dropped by the next push into the list or a reindex.
  let deletedByHand = false
  try {
    // The first use of a queue an earlier version wrote indexes it; a lookup waits for that.
    if (s.legacy !== null) await dlq.eventPage('a', 1)
    const textOf = (p: number) => {
      const pool = [...model.list.map(e => e.text), ...known]
      return pool.length === 0 ? undefined : (pool[p % pool.length] as string)
    }
    for (const o of s.ops) {
      switch (o.kind) {
        case 'push': {
          const letters = o.items.map(letterOf)
          for (const l of letters) known.add(JSON.stringify(l))
          const wasEmpty = model.list.length === 0
          const expected = model.push(letters.map(modelEntry))
          let full: Cap | undefined
          let outcome: { pushed: number; dropped: Partial<Record<Cap, number>> } | undefined
          try {
            outcome = await dlq.push(letters)
          } catch (error) {
            if (!(error instanceof PipelineError) || error.code !== 'DLQ_FULL') throw error
            full = error.message.includes('BYTES') ? 'bytes' : 'entries'
          }
          assert.equal(full, expected.full, 'the consumer cap that stopped the push')
          if (outcome !== undefined) {
            assert.deepEqual(outcome, { pushed: expected.pushed, dropped: expected.dropped }, 'push outcome')
          }
          if (wasEmpty && model.list.length > 0) deletedByHand = false
          break
        }
        case 'remove': {
          const texts = o.picks.map(textOf).filter(t => t !== undefined)
          assert.deepEqual(await dlq.remove(texts), model.remove(texts), 'remove')
          break
        }
        case 'removeUnclaimed': {
          const texts = o.picks.map(textOf).filter(t => t !== undefined)
          const claimsKey = companionKey(key, 'claims')
          const claimed = new Set(texts.filter((_, i) => o.claims[i]))
          await redis.del(claimsKey)
          for (const text of claimed) await redis.hset(claimsKey, digest(text), 'job')
          assert.deepEqual(
            await dlq.removeUnclaimed(texts, texts.map(digest), claimsKey),
            model.removeUnclaimed(texts, claimed),
            'removeUnclaimed',
          )
          break
        }
        case 'delete':
          await redis.del(key)
          model.deleteList()
          deletedByHand = true
          break
        case 'reindex':
          assert.equal(await dlq.reindex(), model.reindex(), 'reindex')
          deletedByHand = false
          break
        case 'check':
          await assertSame(redis, key, dlq, model, s.pageSize)
          break
      }
    }
    await assertSame(redis, key, dlq, model, s.pageSize)
    // Removing everything leaves nothing of the current index behind.
    const rest = model.list.map(e => e.text)
    assert.deepEqual(await dlq.remove(rest), model.remove(rest), 'removing everything')
    await assertSame(redis, key, dlq, model, s.pageSize)
    if (!deletedByHand) {
      assert.deepEqual(await indexSets(redis, key), [], 'index sets left after removing everything')
      const { prefix, meta } = dlqKeys(key)
      const gen = (await redis.hget(meta, 'gen')) ?? '0'
      assert.equal(
        await redis.exists(`${prefix}evs:${gen}`, `${prefix}dup:${gen}`, `${prefix}keys:${gen}`),
        0,
        'index keys left',
      )
      const summaryPattern = `${prefix.replace(/[{}[\]*?\\]/g, c => `\\${c}`)}key:${gen}:*`
      assert.deepEqual(await keysMatching(redis, summaryPattern), [], 'key summary sets left')
    }
  } finally {
    await dlq.close()
  }
}

describe('the DLQ holds to its rule', () => {
  it('list, lookups by eventId, counters and caps match the model', async t => {
    const { redis, prefix } = redisPrefix(t)
    let n = 0
    await fc.assert(
      fc.asyncProperty(scenario, async s => {
        n++
        await run(redis, `${prefix}r${n}:dlq`, s)
      }),
      { numRuns: full ? 1000 : 100 },
    )
  })
})
