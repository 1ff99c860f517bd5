// The log's end offsets that ?after= is checked against: the verdict as a pure function, and how often Kafka is
// asked, over a counted read function and against the real broker.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Offsets } from '../../src/api/after.ts'
import { checkAgainstLog, LogEnds } from '../../src/api/log-ends.ts'
import { createOffsetsReader } from '../../src/kafka/index.ts'
import { produceRaw } from '../helpers/kafka.ts'
import { kafkaTopic } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'

const map = (...pairs: [number, bigint][]): Offsets => new Map(pairs)

describe('checkAgainstLog', () => {
  const ends = map([0, 10n], [1, 0n], [2, 3n])
  it('lets through offsets of records the log holds', () => {
    assert.deepEqual(checkAgainstLog(map([0, 9n], [2, 0n]), ends), { kind: 'within' })
    assert.deepEqual(checkAgainstLog(map(), ends), { kind: 'within' })
  })
  it('names the first partition whose offset is at or past its end, with that end', () => {
    assert.deepEqual(checkAgainstLog(map([2, 3n], [0, 10n]), ends), {
      kind: 'beyond',
      partition: 0,
      offset: 10n,
      end: 10n,
    })
    assert.deepEqual(checkAgainstLog(map([1, 0n]), ends), { kind: 'beyond', partition: 1, offset: 0n, end: 0n })
    assert.deepEqual(checkAgainstLog(map([0, 9223372036854775000n]), ends), {
      kind: 'beyond',
      partition: 0,
      offset: 9223372036854775000n,
      end: 10n,
    })
  })
  it('names a partition the topic does not have, with the partition count', () => {
    assert.deepEqual(checkAgainstLog(map([0, 1n], [3, 0n]), ends), {
      kind: 'no-partition',
      partition: 3,
      partitions: 3,
    })
    assert.deepEqual(checkAgainstLog(map([0, 0n]), map()), { kind: 'no-partition', partition: 0, partitions: 0 })
  })
})

function counted(initial: Offsets) {
  let value = initial
  let fail = false
  const counter = { reads: 0 }
  return {
    counter,
    set: (next: Offsets) => {
      value = next
    },
    failing: (on: boolean) => {
      fail = on
    },
    read: async () => {
      counter.reads++
      await sleep(2)
      if (fail) throw new Error('kafka down')
      return value
    },
  }
}

describe('LogEnds', () => {
  it('believes "beyond" only from a read started after the request arrived', async () => {
    const s = counted(map([0, 5n]))
    const ends = new LogEnds({ read: s.read, minGapMs: 20 })
    assert.deepEqual(await ends.check(map([0, 4n]), performance.now()), { kind: 'within' })
    assert.equal(s.counter.reads, 1)
    // Within by the value in memory: no read.
    assert.deepEqual(await ends.check(map([0, 0n]), performance.now()), { kind: 'within' })
    assert.equal(s.counter.reads, 1)
    // A write lands after the value was read; its writer asks for it: not refused from the old value.
    s.set(map([0, 6n]))
    assert.deepEqual(await ends.check(map([0, 5n]), performance.now()), { kind: 'within' })
    assert.equal(s.counter.reads, 2)
    assert.deepEqual(await ends.check(map([0, 6n]), performance.now()), {
      kind: 'beyond',
      partition: 0,
      offset: 6n,
      end: 6n,
    })
  })

  it('costs one read per gap, whatever the number of requests', async () => {
    const s = counted(map([0, 5n], [1, 5n]))
    const ends = new LogEnds({ read: s.read, minGapMs: 50 })
    const started = performance.now()
    const verdicts = []
    for (let i = 0; i < 20; i++) {
      verdicts.push(
        ...(await Promise.all(Array.from({ length: 50 }, () => ends.check(map([7, 0n]), performance.now())))),
      )
      await sleep(5)
    }
    const elapsed = performance.now() - started
    assert.ok(verdicts.every(v => v.kind === 'no-partition'))
    // 1000 requests over `elapsed` ms: at most one read per 50 ms (and the first at once).
    assert.ok(s.counter.reads <= Math.ceil(elapsed / 50) + 1, `${s.counter.reads} reads in ${Math.round(elapsed)} ms`)
    assert.ok(s.counter.reads >= 2)
  })

  it('answers unknown while Kafka fails, and recovers', async () => {
    const s = counted(map([0, 5n]))
    const errors: unknown[] = []
    const ends = new LogEnds({ read: s.read, minGapMs: 10, onError: e => errors.push(e) })
    s.failing(true)
    assert.deepEqual(await ends.check(map([0, 100n]), performance.now()), { kind: 'unknown' })
    assert.equal(errors.length, 1)
    s.failing(false)
    assert.deepEqual(await ends.check(map([0, 100n]), performance.now()), {
      kind: 'beyond',
      partition: 0,
      offset: 100n,
      end: 5n,
    })
    ends.close()
    assert.deepEqual(await ends.check(map([0, 200n]), performance.now()), { kind: 'unknown' })
  })

  it('reads the real end offsets of a topic through the offsets reader', async t => {
    const topic = await kafkaTopic(t, 2)
    await produceRaw(topic, [
      { value: 'a', partition: 0 },
      { value: 'b', partition: 0 },
      { value: 'c', partition: 1 },
    ])
    const reader = createOffsetsReader(
      { clientId: 'test-log-ends', bootstrapBrokers: [...testServices.kafkaBrokers] },
      { timeoutMs: 5000 },
    )
    t.after(() => reader.close())
    const ends = new LogEnds({ read: () => reader.ends(topic) })
    assert.deepEqual(await ends.check(map([0, 1n], [1, 0n]), performance.now()), { kind: 'within' })
    assert.deepEqual(await ends.check(map([0, 2n]), performance.now()), {
      kind: 'beyond',
      partition: 0,
      offset: 2n,
      end: 2n,
    })
    assert.deepEqual(await ends.check(map([2, 0n]), performance.now()), {
      kind: 'no-partition',
      partition: 2,
      partitions: 2,
    })
  })
})
