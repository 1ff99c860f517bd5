// The status decision alone: every status word from hand-made facts, and which source wins when several speak.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { DeadLetter } from '../../src/dlq/index.ts'
import { PipelineError } from '../../src/errors.ts'
import { decideStatus, type EventStatusSources, eventStatus, keyQuestionsOf } from '../../src/event-status/status.ts'
import type { EventFacts } from '../../src/store/index.ts'

const src = (partition: number, offset: number) => ({ topic: 'events', partition, offset: BigInt(offset) })
const pos = (partition: number, offset: number) => ({ topic: 'events', partition, offset: String(offset) })

const none: EventFacts = { logged: undefined, row: undefined, pending: [], ledger: undefined }
const logged = (eventTs: string, offset: number): EventFacts['logged'] => ({
  table: 'orders',
  key: 'o1',
  eventTs,
  source: src(1, offset),
})
const row = (eventId: string, eventTs: string, offset: number): EventFacts['row'] => ({
  eventId,
  eventTs,
  source: src(1, offset),
  updatedAt: '2025-01-11T12:00:05.000Z',
})
const pendingRow = {
  source: src(1, 4),
  key: 'o1',
  parentTable: 'users',
  parentKey: 'u9',
  constraint: 'FK_Orders_Users',
  pendingSince: '2025-01-11T12:00:01.000Z',
}
const letter = (overrides: Partial<DeadLetter> = {}): DeadLetter => ({
  eventId: 'e1',
  topic: 'events',
  partition: 2,
  offset: '8',
  key: 'o1',
  payload: '{}',
  payloadEncoding: 'utf8',
  error: { code: 'SCHEMA_VIOLATION', message: '/data/total: required' },
  attempts: 1,
  failedAt: '2025-01-11T12:00:09.000Z',
  source: 'consumer',
  ...overrides,
})

describe('decideStatus', () => {
  it('applied: the row holds the eventId, at the record that holds it', () => {
    const s = decideStatus('e1', { ...none, logged: logged('2025-01-11T12:00:00.000Z', 3), row: row('e1', 'x', 7) }, [])
    assert.deepEqual(s, {
      eventId: 'e1',
      status: 'applied',
      type: 'OrderPlaced',
      table: 'orders',
      key: 'o1',
      position: pos(1, 7),
      at: '2025-01-11T12:00:05.000Z',
    })
  })

  it('superseded: a newer event holds the row, by timestamp or, equal, by offset', () => {
    const newerTs = decideStatus(
      'e1',
      { ...none, logged: logged('2025-01-11T12:00:00.000Z', 9), row: row('e2', '2025-01-11T12:00:01.000Z', 2) },
      [],
    )
    assert.deepEqual(newerTs?.status === 'superseded' && [newerTs.position, newerTs.by], [
      pos(1, 9),
      { eventId: 'e2', timestamp: '2025-01-11T12:00:01.000Z', position: pos(1, 2) },
    ])
    const sameTs = decideStatus(
      'e1',
      { ...none, logged: logged('2025-01-11T12:00:00.000Z', 3), row: row('e2', '2025-01-11T12:00:00.000Z', 4) },
      [],
    )
    assert.equal(sameTs?.status, 'superseded')
  })

  it('pending wins over a row held by an older event, and names the parent it waits for', () => {
    const s = decideStatus(
      'e1',
      {
        ...none,
        logged: logged('2025-01-11T12:00:09.000Z', 4),
        row: row('e0', '2025-01-11T12:00:00.000Z', 1),
        pending: [pendingRow],
      },
      [],
    )
    assert.deepEqual(s, {
      eventId: 'e1',
      status: 'pending',
      type: 'OrderPlaced',
      table: 'orders',
      key: 'o1',
      position: pos(1, 4),
      waitingFor: { table: 'users', key: 'u9', constraint: 'FK_Orders_Users' },
      since: '2025-01-11T12:00:01.000Z',
      records: 1,
    })
  })

  it('dead-lettered: the DLQ holds it and the store does not decide; a producer entry has no position', () => {
    const s = decideStatus('e1', none, [
      letter(),
      letter({ source: 'producer', topic: null, partition: null, offset: null }),
    ])
    assert.deepEqual(s?.status === 'dead-lettered' && s.deadLetters.map(l => [l.code, l.source, l.position]), [
      ['SCHEMA_VIOLATION', 'consumer', pos(2, 8)],
      ['SCHEMA_VIOLATION', 'producer', null],
    ])
    // An expired pending order: its row holds an older event, its dead letter tells what happened.
    const expired = decideStatus(
      'e1',
      { ...none, logged: logged('2025-01-11T12:00:09.000Z', 4), row: row('e0', '2025-01-11T12:00:00.000Z', 1) },
      [letter({ error: { code: 'CONSTRAINT_VIOLATION', message: 'FK_Orders_Users' } })],
    )
    assert.equal(expired?.status, 'dead-lettered')
  })

  it('applied from the ledger for a delta, with the dead letter of a reused eventId alongside', () => {
    const s = decideStatus(
      'd1',
      {
        ...none,
        ledger: { sku: 's1', delta: 3, source: src(0, 5), appliedAt: '2025-01-11T12:00:02.000Z' },
      },
      [letter({ eventId: 'd1', error: { code: 'EVENT_ID_CONFLICT', message: 'reused' } })],
    )
    assert.equal(s?.status, 'applied')
    assert.deepEqual(s?.status === 'applied' && [s.type, s.table, s.key, s.position, s.deadLetters?.[0]?.code], [
      'InventoryAdjusted',
      'inventory',
      's1',
      pos(0, 5),
      'EVENT_ID_CONFLICT',
    ])
  })

  it('unknown: nothing anywhere, or only a log row whose row moved on to an older event', () => {
    assert.deepEqual(decideStatus('e1', none, []), { eventId: 'e1', status: 'unknown' })
    const s = decideStatus(
      'e1',
      { ...none, logged: logged('2025-01-11T12:00:09.000Z', 4), row: row('e0', '2025-01-11T12:00:00.000Z', 1) },
      [],
    )
    assert.deepEqual(s?.status === 'unknown' && s.lastSeen, {
      type: 'OrderPlaced',
      table: 'orders',
      key: 'o1',
      position: pos(1, 4),
    })
  })

  it('cannot decide without the DLQ when the store does not: undefined, and eventStatus says DLQ_UNAVAILABLE', async () => {
    assert.equal(decideStatus('e1', none, undefined), undefined)
    // The store alone decides an applied event even while the DLQ is down.
    const applied = { ...none, logged: logged('t', 3), row: row('e1', 't', 3) }
    assert.equal(decideStatus('e1', applied, undefined)?.status, 'applied')
    const down = () => Promise.reject(new PipelineError('DLQ_UNAVAILABLE', 'Redis is down'))
    await assert.rejects(eventStatus('e1', { store: { eventFacts: async () => none }, deadLetters: down }), {
      code: 'DLQ_UNAVAILABLE',
    })
    const s = await eventStatus('e1', { store: { eventFacts: async () => applied }, deadLetters: down })
    assert.equal(s.status, 'applied')
  })

  it("tells the key's dead letters the row does not reflect, asking about the row the store holds now", async () => {
    const facts = { ...none, logged: logged('t', 3), row: row('e2', 't', 5) }
    const superseded = decideStatus('e1', facts, [])
    assert.ok(superseded)
    assert.deepEqual(keyQuestionsOf(superseded, facts), [
      { class: 'orders', key: 'o1', after: '5' },
      { class: 'unknown', key: 'o1', after: '5' },
    ])
    assert.deepEqual(keyQuestionsOf({ eventId: 'e1', status: 'unknown' }, none), [])
    const sources = (keySummaries: EventStatusSources['keySummaries']) => ({
      store: { eventFacts: async () => facts },
      deadLetters: async () => ({ letters: [], total: 0 }),
      keySummaries,
    })
    const told = await eventStatus(
      'e1',
      sources(async questions =>
        questions.map(q =>
          q.class === 'orders'
            ? { count: 1, newest: { eventId: 'e3', partition: 1, offset: '8' } }
            : { count: 0, newest: null },
        ),
      ),
    )
    assert.deepEqual(told.deadLettered, { count: 1, newestEventId: 'e3', partition: 1, offset: '8' })
    // A DLQ that cannot tell leaves the status as the store decided it.
    const quiet = await eventStatus(
      'e1',
      sources(() => Promise.reject(new Error('Redis is down'))),
    )
    assert.deepEqual(quiet, superseded)
  })
})
