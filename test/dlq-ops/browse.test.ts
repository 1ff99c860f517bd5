import assert from 'node:assert/strict'
import { it } from 'node:test'
import { createRedisDlq } from '../../src/dlq/index.ts'
import { noType, stats } from '../../src/dlq-ops/browse.ts'
import { letter } from '../helpers/letters.ts'
import { redisPrefix } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'

it('tallies entries by code and type, with the oldest and newest failedAt', async t => {
  const { prefix } = redisPrefix(t)
  const dlq = createRedisDlq({
    addr: testServices.redisAddr,
    password: testServices.redisPassword,
    key: `${prefix}dlq`,
  })
  t.after(() => dlq.close())
  await dlq.push([
    letter(1, { error: { code: 'INVALID_JSON', message: 'x' }, payload: '{' }),
    letter(2, { payload: JSON.stringify({ type: '__proto__' }) }),
    letter(3),
  ])
  const tally = await stats(dlq)
  assert.equal(tally.total, 3)
  assert.deepEqual({ ...tally.byCode }, { SCHEMA_VIOLATION: 2, INVALID_JSON: 1 })
  // A type named "__proto__" is counted, not assigned to the prototype.
  assert.deepEqual(Object.entries(tally.byType).sort(), [
    [noType, 1],
    ['UserCreated', 1],
    ['__proto__', 1],
  ])
  assert.equal(tally.oldest, letter(1).failedAt)
  assert.equal(tally.newest, letter(3).failedAt)
})
