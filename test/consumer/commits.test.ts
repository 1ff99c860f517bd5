// The committer's schedule: one commit in flight, what finished meanwhile rides along, and a failed commit is
// tried again without waiting for another batch. The consumer tests drive it against the real broker; here the
// coordinator's answers (including failures the local broker gives only by chance) are scripted.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type CommitOffset, createCommitter } from '../../src/consumer/commits.ts'
import { eventually } from '../helpers/kafka.ts'

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
  it('tries a failed commit again after a back-off, with no new batch to ask for it', async () => {
    const wanted = new Map([[0, at(0, 8n)]])
    const coordinator = script(['fail', 'fail', 'ok'])
    const failures: number[] = []
    const delays: number[] = []
    const commits = createCommitter({
      collect: () => wanted.values(),
      send: coordinator.send,
      failed: (_, n) => failures.push(n),
      retryDelay: n => {
        delays.push(n)
        return 20
      },
    })
    commits.request()
    await eventually('the third attempt', () => coordinator.sent.length === 3, 2000)
    assert.deepEqual(failures, [1, 2])
    assert.deepEqual(delays, [1, 2])
    assert.deepEqual(
      coordinator.sent.map(o => o.map(x => x.offset)),
      [[8n], [8n], [8n]],
    )
    // Landed: nothing more is sent until there is something new.
    await new Promise(resolve => setTimeout(resolve, 100))
    commits.request()
    assert.equal(coordinator.sent.length, 3)
    wanted.set(1, at(1, 3n))
    commits.request()
    await eventually('the new partition', () => coordinator.sent.length === 4, 2000)
    assert.deepEqual(coordinator.sent[3], [at(1, 3n)])
    commits.close()
  })

  it('keeps one commit in flight; what finishes meanwhile goes in the next one', async () => {
    const wanted = new Map([[0, at(0, 10n)]])
    const coordinator = script(['hold', 'ok'])
    const commits = createCommitter({ collect: () => wanted.values(), send: coordinator.send, failed: () => {} })
    commits.request()
    wanted.set(0, at(0, 20n))
    wanted.set(1, at(1, 5n))
    commits.request()
    commits.request()
    assert.equal(coordinator.sent.length, 1)
    coordinator.release()
    await commits.flush()
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
    commits.close()
  })

  it('a new batch does not wait out the back-off; after close nothing is retried', async () => {
    const wanted = new Map([[0, at(0, 1n)]])
    const coordinator = script(['fail', 'fail', 'fail'])
    let delay = 60_000
    const commits = createCommitter({
      collect: () => wanted.values(),
      send: coordinator.send,
      failed: () => {},
      retryDelay: () => delay,
    })
    await commits.flush()
    assert.equal(coordinator.sent.length, 1)
    delay = 10
    wanted.set(0, at(0, 2n))
    await commits.flush()
    assert.equal(coordinator.sent.length, 2, 'the new offsets went at once, not after the first back-off')
    // The second failure set a 10 ms retry; closing cancels it.
    commits.close()
    await new Promise(resolve => setTimeout(resolve, 60))
    assert.equal(coordinator.sent.length, 2)
  })
})
