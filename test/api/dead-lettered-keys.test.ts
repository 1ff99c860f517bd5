// How reads ask the DLQ about their keys (src/api/dead-lettered.ts), with the queue's answer given as a function:
// the reads of one turn share one call, and a DLQ that fails or hangs answers "unchecked", never an error.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DeadLetteredKeys, deadLetteredHeader } from '../../src/api/dead-lettered.ts'
import { type KeyAnswer, type KeyQuestion, keyQuestionsMax } from '../../src/dlq/index.ts'

/** A queue that holds one dead letter of u1 at offset 9 (class users), and counts its calls. */
function queue() {
  const calls: KeyQuestion[][] = []
  const ask = async (questions: readonly KeyQuestion[]): Promise<KeyAnswer[]> => {
    calls.push([...questions])
    return questions.map(q =>
      q.key === 'u1' && q.class === 'users' && (q.after === undefined || BigInt(q.after) < 9n)
        ? { count: 1, newest: { eventId: 'e9', partition: 0, offset: '9' } }
        : { count: 0, newest: null },
    )
  }
  return { calls, ask }
}

describe('DeadLetteredKeys', () => {
  it('tells a newer dead letter, not an older one, and asks once for every read of the turn', async () => {
    const q = queue()
    const keys = new DeadLetteredKeys({ ask: q.ask })
    const [newer, older, other] = await Promise.all([
      keys.check('u1', { reader: 'user', user: '4' }),
      keys.check('u1', { reader: 'user', user: '12' }),
      keys.check('u2', { reader: 'user', user: undefined }),
    ])
    assert.deepEqual(newer, {
      checked: true,
      deadLettered: { count: 1, newestEventId: 'e9', partition: 0, offset: '9' },
    })
    assert.deepEqual(older, { checked: true, deadLettered: undefined })
    assert.deepEqual(other, { checked: true, deadLettered: undefined })
    assert.equal(q.calls.length, 1, 'one call for the turn')
    assert.equal(q.calls[0]?.length, 6)
    assert.deepEqual([newer, older].map(deadLetteredHeader), ['1', '0'])
  })

  it('splits a turn with more questions than one call takes', async () => {
    const q = queue()
    const keys = new DeadLetteredKeys({ ask: q.ask })
    const reads = Array.from({ length: keyQuestionsMax }, (_, i) => keys.check(`k${i}`, { reader: 'inventory' }))
    await Promise.all(reads)
    assert.deepEqual(
      q.calls.map(c => c.length),
      [keyQuestionsMax, keyQuestionsMax],
    )
  })

  it('a failing DLQ answers unchecked, told once when it starts failing and once when it works again', async () => {
    let down = true
    const told: string[] = []
    const keys = new DeadLetteredKeys({
      ask: async questions => {
        if (down) throw new Error('Redis is down')
        return questions.map(() => ({ count: 0, newest: null }))
      },
      onFailing: error => told.push(`failing: ${(error as Error).message}`),
      onRecovered: () => told.push('recovered'),
    })
    const read = () => keys.check('u1', { reader: 'user', user: '1' })
    assert.deepEqual(await read(), { checked: false })
    assert.deepEqual(await read(), { checked: false })
    assert.equal(deadLetteredHeader({ checked: false }), 'unchecked')
    down = false
    assert.deepEqual(await read(), { checked: true, deadLettered: undefined })
    assert.deepEqual(told, ['failing: Redis is down', 'recovered'])
  })

  it('a DLQ that does not answer holds a read no longer than waitMs', async () => {
    const keys = new DeadLetteredKeys({ ask: () => new Promise(() => {}), waitMs: 50 })
    const started = Date.now()
    assert.deepEqual(await keys.check('u1', { reader: 'user', user: '1' }), { checked: false })
    const ms = Date.now() - started
    assert.ok(ms >= 45 && ms < 500, `waited ${ms} ms`)
  })
})
