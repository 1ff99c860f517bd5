import assert from 'node:assert/strict'
import { it } from 'node:test'
import { addToTally, emptyTally, noType } from '../../src/admin/index.ts'
import { letter } from './letters.ts'

it('tallies entries by code and type, with the oldest and newest failedAt', () => {
  const tally = emptyTally()
  addToTally(tally, letter(3))
  addToTally(tally, letter(1, { error: { code: 'INVALID_JSON', message: 'x' }, payload: '{' }))
  addToTally(tally, letter(2, { payload: JSON.stringify({ type: '__proto__' }) }))
  assert.equal(tally.total, 3)
  assert.deepEqual({ ...tally.byCode }, { SCHEMA_VIOLATION: 2, INVALID_JSON: 1 })
  assert.deepEqual(Object.entries(tally.byType), [
    ['UserCreated', 1],
    [noType, 1],
    ['__proto__', 1],
  ])
  assert.equal(tally.oldest, letter(1).failedAt)
  assert.equal(tally.newest, letter(3).failedAt)
})
