// When a redrive run may start a send: only while its lease, counted from when its last successful renewal was
// sent, covers the whole send with the margin to spare. Driven by a hand-set clock, without Redis or Kafka.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { holdLease, LeaseLost, LeaseWindow, leaseTimings } from '../../src/dlq-ops/lease.ts'

describe('redrive lease', () => {
  it('defaults to a lease that covers a send, its margin and two seconds more, and refuses one too short', () => {
    assert.deepEqual(leaseTimings(5000), { leaseMs: 8000, marginMs: 1000, renewEveryMs: 2000, sendMs: 5000 })
    assert.equal(leaseTimings(1000).leaseMs, 6000)
    assert.throws(() => leaseTimings(5000, 6000), /cannot cover a 5000 ms Kafka send/)
  })

  it('counts from when a renewal was sent, never moves back, and closes for good once lost', () => {
    const w = new LeaseWindow(leaseTimings(1000, 3000, 500), 100)
    assert.equal(w.validUntil, 2600)
    assert.ok(w.covers(2600))
    assert.ok(!w.covers(2601))
    w.renewed(1000)
    assert.equal(w.validUntil, 3500)
    w.renewed(900) // an older renewal answered late
    assert.equal(w.validUntil, 3500)
    w.lose('another run holds it now')
    w.renewed(5000)
    assert.ok(!w.covers(0))
    assert.equal(w.lost, 'another run holds it now')
  })

  it('renews before a send the lease no longer covers, and stops when it cannot', async t => {
    let clock = 0
    let answer: () => Promise<boolean> = async () => true
    let renewals = 0
    const renew = () => {
      renewals++
      return answer()
    }
    // Lease 60 s, margin 0.5 s: valid until 59.5 s after each renewal; sends of 1 s.
    const holder = holdLease('rd-1', leaseTimings(1000, 60_000, 500), 0, renew, () => clock)
    t.after(() => holder.stop())

    assert.equal(await holder.ensure(1000), 1000)
    assert.equal(renewals, 0, 'covered: no renewal needed')
    clock = 58_600 // 58.6 + 1 > 59.5: renew first
    assert.equal(await holder.ensure(1000), 59_600)
    assert.equal(renewals, 1)

    clock = 58_600 + 58_600
    answer = () => Promise.reject(new Error('Command timed out'))
    await assert.rejects(holder.ensure(1000), (e: Error) => {
      assert.ok(e instanceof LeaseLost)
      assert.match(e.message, /redrive rd-1 lost its lease \(it could not be renewed in time: Command timed out\)/)
      return true
    })
    answer = async () => false
    await assert.rejects(holder.ensure(1000), /lost its lease \(another run holds it now\)/)
    answer = async () => true
    assert.throws(() => holder.check(), LeaseLost, 'a lost lease stays lost')
    await assert.rejects(holder.ensure(1), LeaseLost)
  })
})
