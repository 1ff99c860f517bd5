// The rebuild's life as a table: which state may follow which, and what each command refuses, with a reason that
// names the next step.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { fromStatesOf, mayFollow, rebuildStates, refusal } from '../../src/rebuild/state.ts'

describe('rebuild states', () => {
  it('fills after creation and resumes after a stop, a failure or a rollback, never after a swap', () => {
    for (const from of ['creating', 'stopped', 'failed', 'rolled-back'] as const) assert.ok(mayFollow(from, 'filling'))
    for (const from of ['swapped', 'aborted', 'done', 'swapping'] as const) assert.ok(!mayFollow(from, 'filling'))
  })

  it('ends only in aborted or done, and nothing follows them', () => {
    for (const to of rebuildStates) {
      assert.ok(!mayFollow('aborted', to), `aborted → ${to}`)
      assert.ok(!mayFollow('done', to), `done → ${to}`)
    }
  })

  it('swaps in only through swapping, and rolls back or finishes only a swapped rebuild', () => {
    assert.deepEqual(fromStatesOf('swapped'), ['swapping'])
    assert.deepEqual(fromStatesOf('rolled-back'), ['swapped'])
    assert.deepEqual(fromStatesOf('done'), ['swapped'])
    // A swap that failed before the tables moved leaves a shadow to resume.
    assert.ok(mayFollow('swapping', 'stopped'))
    // A swapped rebuild's shadow is the live projection: abort (drop) must not reach it.
    assert.ok(!mayFollow('swapped', 'aborted'))
  })

  it('refuses commands with the state and the next step', () => {
    assert.equal(refusal('swap', 'caught-up', 3), undefined)
    assert.equal(refusal('verify', 'stopped', 3), undefined)
    assert.match(refusal('abort', 'swapped', 3) ?? '', /rebuild 3 is swapped: cannot abort.*rollback/)
    assert.match(refusal('rollback', 'filling', 3) ?? '', /rebuild 3 is filling: cannot rollback/)
    assert.match(refusal('drop-old', 'rolled-back', 3) ?? '', /cannot drop-old/)
    assert.match(refusal('swap', undefined) ?? '', /no rebuild of this store.*rebuild start/)
    assert.match(refusal('resume', 'done', 4) ?? '', /rebuild 4 is done.*rebuild start/)
  })
})
