// Places for waiting reads: bounded in total and per client address.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { WaitSlots } from '../../src/api/wait-slots.ts'

describe('WaitSlots', () => {
  it('gives one address at most its share, leaving the rest for the others', () => {
    const slots = new WaitSlots({ max: 5, perAddress: 2 })
    const a1 = slots.acquire('10.0.0.1')
    const a2 = slots.acquire('10.0.0.1')
    assert.ok(a1.ok && a2.ok)
    assert.deepEqual(slots.acquire('10.0.0.1'), { ok: false, full: 'address', limit: 2 })
    assert.ok(slots.acquire('10.0.0.2').ok)
    assert.equal(slots.taken, 3)
    assert.equal(slots.takenBy('10.0.0.1'), 2)
    a1.release()
    a1.release()
    assert.equal(slots.takenBy('10.0.0.1'), 1, 'a second release gives nothing back')
    assert.ok(slots.acquire('10.0.0.1').ok)
  })

  it('refuses everyone once the total is taken, and forgets an address with no place', () => {
    const slots = new WaitSlots({ max: 3, perAddress: 2 })
    const held = ['a', 'b', 'c'].map(address => slots.acquire(address))
    assert.deepEqual(slots.acquire('d'), { ok: false, full: 'all', limit: 3 })
    // An address past its own bound hears about its own bound first.
    const more = new WaitSlots({ max: 2, perAddress: 2 })
    more.acquire('x')
    more.acquire('x')
    assert.deepEqual(more.acquire('x'), { ok: false, full: 'address', limit: 2 })
    for (const h of held) if (h.ok) h.release()
    assert.equal(slots.taken, 0)
    assert.equal(slots.takenBy('a'), 0)
    assert.ok(slots.acquire('d').ok)
  })
})
