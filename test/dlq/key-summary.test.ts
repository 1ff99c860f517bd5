// The rule a read keeps with the DLQ's key summary, alone: which questions a read asks from the rows it found,
// and how the answers fold into what it tells (src/dlq/key-summary.ts).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  deadLetteredOf,
  keyArgs,
  parseAnswers,
  parseMember,
  questionsFor,
  questionsForTable,
} from '../../src/dlq/key-summary.ts'

const at = (offset: string, eventId: string | null = `e${offset}`, partition = 1) => ({ eventId, partition, offset })

describe('questionsFor', () => {
  it('a user row counts UserCreated and unknown entries later than its own record', () => {
    assert.deepEqual(questionsFor('u1', { reader: 'user', user: '41' }), [
      { class: 'users', key: 'u1', after: '41' },
      { class: 'unknown', key: 'u1', after: '41' },
    ])
  })

  it('an order compares orders with its row and payments with the payment row, or counts all without one', () => {
    assert.deepEqual(questionsFor('o1', { reader: 'order', order: '7', payment: undefined }), [
      { class: 'orders', key: 'o1', after: '7' },
      { class: 'payments', key: 'o1', after: undefined },
      { class: 'unknown', key: 'o1', after: '7' },
    ])
    assert.deepEqual(questionsFor('o1', { reader: 'order', order: '7', payment: '12' })[1], {
      class: 'payments',
      key: 'o1',
      after: '12',
    })
  })

  it('inventory counts every delta entry, whatever its offset; a missing row counts every entry', () => {
    assert.deepEqual(questionsFor('s1', { reader: 'inventory' }), [
      { class: 'inventory', key: 's1' },
      { class: 'unknown', key: 's1' },
    ])
    assert.deepEqual(
      questionsFor('u9', { reader: 'user', user: undefined }).map(q => q.after),
      [undefined, undefined],
    )
  })

  it('an event status asks about its own table, or the inventory as a read does', () => {
    assert.deepEqual(questionsForTable('payments', 'o1', '3'), [
      { class: 'payments', key: 'o1', after: '3' },
      { class: 'unknown', key: 'o1', after: '3' },
    ])
    assert.deepEqual(questionsForTable('inventory', 's1', '3'), questionsFor('s1', { reader: 'inventory' }))
  })
})

describe('deadLetteredOf', () => {
  it('nothing to tell when every count is 0', () => {
    assert.equal(deadLetteredOf([]), undefined)
    assert.equal(
      deadLetteredOf([
        { count: 0, newest: null },
        { count: 0, newest: null },
      ]),
      undefined,
    )
  })

  it('sums the counts and names the entry with the greatest offset, compared as 64-bit numbers', () => {
    const told = deadLetteredOf([
      { count: 2, newest: at('9') },
      { count: 0, newest: null },
      { count: 1, newest: at('10', null) },
    ])
    assert.deepEqual(told, { count: 3, newestEventId: null, partition: 1, offset: '10' })
    // Past 2^53 a number would round both to the same value; the offsets stay exact.
    const big = deadLetteredOf([
      { count: 1, newest: at('9007199254740993', 'later') },
      { count: 1, newest: at('9007199254740992', 'earlier') },
    ])
    assert.equal(big?.newestEventId, 'later')
  })
})

describe("the script's arguments and answers", () => {
  it('one (class letter, key, after) triple per question, after empty for every entry', () => {
    assert.deepEqual(
      keyArgs([
        { class: 'users', key: 'u 1', after: '5' },
        { class: 'unknown', key: 'u 1' },
        { class: 'payments', key: 'o|1', after: undefined },
      ]),
      ['u', 'u 1', '5', '?', 'u 1', '', 'p', 'o|1', ''],
    )
  })

  it('members read back whole, an eventId with separators included; junk reads as nothing', () => {
    assert.deepEqual(parseMember('2|17|-3|a|b c'), { partition: 2, offset: '17', eventId: 'a|b c' })
    assert.deepEqual(parseMember('0|4|12|'), { partition: 0, offset: '4', eventId: null })
    assert.equal(parseMember(''), null)
    assert.equal(parseMember('x|4|12|e'), null)
    assert.deepEqual(parseAnswers([2, '1|8|3|e8', 0, '']), [
      { count: 2, newest: { partition: 1, offset: '8', eventId: 'e8' } },
      { count: 0, newest: null },
    ])
  })
})
