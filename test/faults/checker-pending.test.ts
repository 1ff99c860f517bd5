// The checker's rule for orders whose user never comes, on outcomes written by hand: the winner of each order
// must wait in pending_events; an older record of the same order may wait too, or be gone (superseded in its
// batch); a winner that is missing is lost.
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { orderPlaced } from '../helpers/events.ts'
import type { TopicRecord } from '../helpers/kafka.ts'
import { check, type Observed, type SqlState } from './checker.ts'

const at = '2031-02-01T00:00:00.000Z'
const older = orderPlaced('o-1', 'nobody', { total: 10, timestamp: at })
const newer = orderPlaced('o-1', 'nobody', { total: 20, timestamp: at })
const records: TopicRecord[] = [older, newer].map((e, offset) => ({
  partition: 0,
  offset: BigInt(offset),
  key: Buffer.from('o-1'),
  value: Buffer.from(JSON.stringify(e)),
  headers: new Map([['eventId', e.eventId]]),
}))
const pendingRow = (offset: number, eventId: string) => ({
  source_topic: 't',
  source_partition: 0,
  source_offset: String(offset),
  event_id: eventId,
})

function outcome(pending: SqlState['pending']): Observed {
  const sql: SqlState = { users: [], orders: [], payments: [], inventory: [], ledger: [], pending }
  return { topic: 't', records, sql, dlq: [] }
}

it('an order waiting for its user: its winner must be pending, an older record of it may be gone', () => {
  const both = check({}, outcome([pendingRow(0, older.eventId), pendingRow(1, newer.eventId)]))
  assert.equal(both.counts.lost + both.counts.appliedTwice, 0, 'both records pending')
  const winner = check({}, outcome([pendingRow(1, newer.eventId)]))
  assert.equal(winner.counts.lost + winner.counts.appliedTwice, 0, 'the older record superseded in its batch')
  const loser = check({}, outcome([pendingRow(0, older.eventId)]))
  assert.equal(loser.counts.lost, 1, 'the winner is missing')
  assert.equal(check({}, outcome([])).counts.lost, 1, 'nothing pending: the order is lost')
  assert.equal(check({}, outcome(null)).counts.lost, 1, 'no pending_events table')
})
