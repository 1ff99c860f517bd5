// The checker's rule for orders whose user never comes, on outcomes written by hand: every record of such an
// order waits in pending_events on its own, whatever batch it came in (a record-at-a-time reading of the log);
// a record that is missing is lost.
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { orderPlaced } from '../helpers/events.ts'
import type { TopicRecord } from '../helpers/kafka.ts'
import { check, type Observed, type SqlState } from './checker.ts'

const at = '2025-02-01T00:00:00.000Z'
const older = orderPlaced('o-1', 'nobody', { total: 10, timestamp: at })
const newer = orderPlaced('o-1', 'nobody', { total: 20, timestamp: at })
const records: TopicRecord[] = [older, newer].map((e, offset) => ({
  partition: 0,
  offset: BigInt(offset),
  key: Buffer.from('o-1'),
  value: Buffer.from(JSON.stringify(e)),
  headers: new Map([['eventId', e.eventId]]),
  rawHeaders: [[Buffer.from('eventId'), Buffer.from(e.eventId)]],
  timestamp: BigInt(Date.parse(at)),
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

it('an order waiting for its user: each of its records must be pending', () => {
  const both = check({}, outcome([pendingRow(0, older.eventId), pendingRow(1, newer.eventId)]))
  assert.equal(both.counts.lost + both.counts.appliedTwice, 0, 'both records pending')
  const winner = check({}, outcome([pendingRow(1, newer.eventId)]))
  assert.equal(winner.counts.lost, 1, 'the older record is missing: a batch boundary may not decide that')
  const loser = check({}, outcome([pendingRow(0, older.eventId)]))
  assert.equal(loser.counts.lost, 1, 'the winner is missing')
  assert.equal(check({}, outcome([])).counts.lost, 2, 'nothing pending: both records are lost')
  assert.equal(check({}, outcome(null)).counts.lost, 2, 'no pending_events table')
})
