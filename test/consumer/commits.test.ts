// The committer's schedule: one commit in flight, what finished meanwhile rides along, and a failed commit is
// tried again without waiting for another batch. The consumer tests drive it against the real broker; here the
// coordinator's answers (including failures the local broker gives only by chance) are scripted.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type CommitOffset, createCommitter } from '../../src/consumer/commits.ts'

const at = (partition: number, offset: bigint): CommitOffset => ({ topic: 't', partition, offset, leaderEpoch: 0 })

function script(outcomes: ('ok' | 'fail' | 'hold')[]) {
  const sent: CommitOffset[][] = []
  const held: (() => void)[] = []
  let inFlight = 0
  let most = 0
  return {
    sent,
    get most() {
      return most
    },
    release: () => held.shift()?.(),
    send: async (offsets: CommitOffset[]) => {
      sent.push(offsets)
      inFlight++
      most = Math.max(most, inFlight)
      try {
        const outcome = outcomes.shift() ?? 'ok'
        if (outcome === 'hold') await new Promise<void>(resolve => held.push(resolve))
        if (outcome === 'fail') throw new Error('COORDINATOR_NOT_AVAILABLE')
      } finally {
        inFlight--
      }
    },
  }
}

describe('offset committer', () => {
  it('tries a failed commit again at the first tick past its back-off, with no new batch to ask for it', async () => {
    const wanted = new Map([[0, at(0, 8n)]])
    const coordinator = script(['fail', 'fail', 'ok'])
    const failures: number[] = []
    let clock = 1000
    const commits = createCommitter({
      collect: () => wanted.values(),
      send: coordinator.send,
      failed: (_, n) => failures.push(n),
      retryDelay: n => n * 100,
      now: () => clock,
    })
    await commits.flush()
    assert.deepEqual(failures, [1])
    commits.tick()
    commits.request()
    assert.equal(coordinator.sent.length, 1, 'nothing during the back-off, not even for a finished batch')
    clock += 100
    commits.tick()
    await commits.flush()
    // The tick's attempt failed again (the flush after it sent a third, which landed).
    assert.deepEqual(failures, [1, 2])
    assert.deepEqual(
      coordinator.sent.map(o => o.map(x => x.offset)),
      [[8n], [8n], [8n]],
    )
    // Landed: a tick sends nothing more until something is behind again.
    commits.tick()
    assert.equal(coordinator.sent.length, 3)
    wanted.set(1, at(1, 3n))
    commits.tick()
    await commits.flush()
    assert.deepEqual(coordinator.sent[3], [at(1, 3n)])
  })

  it('keeps one commit in flight; what finishes meanwhile goes in the next one', async () => {
    const wanted = new Map([[0, at(0, 10n)]])
    const coordinator = script(['hold', 'ok'])
    const commits = createCommitter({ collect: () => wanted.values(), send: coordinator.send, failed: () => {} })
    commits.request()
    wanted.set(0, at(0, 20n))
    wanted.set(1, at(1, 5n))
    commits.request()
    commits.tick()
    commits.request()
    assert.equal(coordinator.sent.length, 1)
    coordinator.release()
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(coordinator.sent.length, 2, 'the second commit followed the first by itself')
    await commits.flush()
    assert.equal(coordinator.sent.length, 2)
    assert.equal(coordinator.most, 1)
    assert.deepEqual(
      coordinator.sent.map(o => o.map(x => [x.partition, x.offset])),
      [
        [[0, 10n]],
        [
          [0, 20n],
          [1, 5n],
        ],
      ],
    )
  })

  it('flushes at shutdown whatever the back-off; after close a tick does nothing', async () => {
    const wanted = new Map([[0, at(0, 1n)]])
    const coordinator = script(['fail', 'ok'])
    let clock = 0
    const commits = createCommitter({
      collect: () => wanted.values(),
      send: coordinator.send,
      failed: () => {},
      retryDelay: () => 60_000,
      now: () => clock,
    })
    commits.request()
    await commits.flush()
    assert.equal(coordinator.sent.length, 2, 'the flush tried at once, inside the back-off')
    wanted.set(0, at(0, 2n))
    commits.close()
    clock = 120_000
    commits.tick()
    assert.equal(coordinator.sent.length, 2)
  })
})
