// The pure rules of pausing: which partitions may start a batch, what pause and resume make of the record, what
// a member reports, and when the group counts as idle.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  checkScope,
  emptyPauseRecord,
  idleVerdict,
  isPaused,
  type MemberReport,
  mayStart,
  memberReport,
  type PauseRecord,
  PauseRequestError,
  parseMemberReport,
  parsePauseRecord,
  pausedOf,
  pauseEntry,
  pausePartitionsMax,
  pauseReasonMax,
  withPause,
  withResume,
} from '../../src/consumer/pause.ts'

const now = new Date('2026-01-01T00:00:00.000Z')
const alice = pauseEntry('alice', 'rebuild', now)
const bob = pauseEntry('bob', 'index', new Date('2026-01-01T00:05:00.000Z'))

describe('which partitions may start a batch', () => {
  it('every partition while nothing is paused', () => {
    for (const p of [0, 1, 7, 1000]) assert.equal(mayStart(emptyPauseRecord, p), true)
  })

  it('none of those listed, all the others', () => {
    const record = withPause(emptyPauseRecord, [0, 2], alice)
    assert.deepEqual(
      [0, 1, 2, 3].map(p => mayStart(record, p)),
      [false, true, false, true],
    )
    assert.deepEqual(pausedOf(record, [3, 2, 1, 0]), [0, 2])
  })

  it('none at all under `all`, partitions the topic gains later included', () => {
    const record = withPause(emptyPauseRecord, 'all', alice)
    for (const p of [0, 1, 2, 99]) assert.equal(mayStart(record, p), false)
    assert.deepEqual(pausedOf(record, [1, 0]), [0, 1])
  })
})

describe('pause and resume', () => {
  it('count revisions, keep the first entry of what was paused already, and change nothing twice', () => {
    const once = withPause(emptyPauseRecord, [1], alice)
    assert.equal(once.revision, 1)
    const again = withPause(once, [1], bob)
    assert.equal(again, once, 'pausing what is paused changes nothing')
    const more = withPause(once, [1, 3], bob)
    assert.equal(more.revision, 2)
    assert.deepEqual(more.partitions, { '1': alice, '3': bob })
    const all = withPause(more, 'all', bob)
    assert.equal(all.revision, 3)
    assert.deepEqual(all.all, bob)
    assert.equal(withPause(all, 'all', alice), all)
  })

  it('resume lifts the partitions named, or everything; a resume of nothing paused changes nothing', () => {
    const record = withPause(emptyPauseRecord, [0, 1, 2], alice)
    const some = withResume(record, [1, 5])
    assert.equal(some.revision, record.revision + 1)
    assert.deepEqual(Object.keys(some.partitions), ['0', '2'])
    assert.equal(withResume(some, [1]), some)
    const none = withResume(withPause(some, 'all', bob), 'all')
    assert.equal(none.all, null)
    assert.deepEqual(none.partitions, {})
    assert.equal(withResume(none, 'all'), none)
  })

  it('refuses to resume part of a pause of every partition', () => {
    const all = withPause(emptyPauseRecord, 'all', alice)
    assert.throws(() => withResume(all, [0]), PauseRequestError)
  })
})

describe('a request checked against the topic', () => {
  it('keeps partitions that exist, sorted and once each', () => {
    assert.deepEqual(checkScope([2, 0, 2], 3), [0, 2])
    assert.equal(checkScope('all', 3), 'all')
  })

  it('refuses partitions the topic does not have, an empty list, too many, a long reason', () => {
    assert.throws(() => checkScope([3], 3), /partition 3 is not a partition of the topic \(it has 3: 0 to 2\)/)
    assert.throws(() => checkScope([-1], 3), PauseRequestError)
    assert.throws(() => checkScope([1.5], 3), PauseRequestError)
    assert.throws(() => checkScope([], 3), PauseRequestError)
    const many = Array.from({ length: pausePartitionsMax + 1 }, (_, i) => i)
    assert.throws(() => checkScope(many, 5000), /at most 1000 partitions/)
    assert.throws(() => pauseEntry('x', 'r'.repeat(pauseReasonMax + 1), now), /at most 200/)
    assert.equal(pauseEntry('x', 'r'.repeat(pauseReasonMax), now).reason.length, pauseReasonMax)
    assert.equal(pauseEntry('y'.repeat(500), undefined, now).by.length, 200)
  })
})

describe('the stored record', () => {
  it('reads back what was written; none stored is nothing paused', () => {
    const record = withPause(withPause(emptyPauseRecord, [4], alice), 'all', bob)
    assert.deepEqual(parsePauseRecord(JSON.stringify(record)), record)
    assert.deepEqual(parsePauseRecord(null), emptyPauseRecord)
  })

  it('pauses everything when it cannot be read: a member must not process what may be paused', () => {
    for (const text of ['{', '[]', '{"revision":1}', '{"revision":1,"all":null,"partitions":{"x":{}}}', 'null']) {
      const record = parsePauseRecord(text)
      assert.equal(isPaused(record, 0), true, text)
    }
  })
})

describe('members and idleness', () => {
  const report = (over: Partial<MemberReport>): MemberReport => ({
    member: 'm1',
    revision: 2,
    owned: [0, 1],
    paused: [0, 1],
    busy: [],
    sweeping: false,
    at: now.toISOString(),
    ...over,
  })

  it('a report names the paused partitions a member owns and those of them still in flight', () => {
    const record: PauseRecord = withPause(emptyPauseRecord, [0, 2], alice)
    const r = memberReport('m1', record, [2, 1, 0], new Set([1, 2]), true, now)
    assert.deepEqual(r.owned, [0, 1, 2])
    assert.deepEqual(r.paused, [0, 2])
    assert.deepEqual(r.busy, [2], 'partition 1 is not paused: its batch does not count')
    assert.equal(r.sweeping, false, 'the sweep counts only while every partition is paused')
    assert.equal(memberReport('m1', withPause(record, 'all', bob), [0], new Set(), true, now).sweeping, true)
    assert.deepEqual(parseMemberReport(JSON.stringify(r)), r)
    assert.equal(parseMemberReport('{"member":1}'), undefined)
    assert.equal(parseMemberReport('not json'), undefined)
  })

  it('idle once every fresh report obeys the revision and has nothing paused in flight', () => {
    const record: PauseRecord = { ...withPause(emptyPauseRecord, 'all', alice), revision: 2 }
    assert.equal(idleVerdict(record, []).idle, true, 'no live member: nothing runs')
    assert.equal(idleVerdict(record, [report({}), report({ member: 'm2', revision: 3 })]).idle, true)
    const stale = idleVerdict(record, [report({ revision: 1 })])
    assert.deepEqual(stale, { idle: false, waitingFor: ['m1: has not read revision 2 yet'] })
    const busy = idleVerdict(record, [report({}), report({ member: 'm2', busy: [1] })])
    assert.deepEqual(busy.waitingFor, ['m2: batches of partitions 1 in flight'])
    assert.equal(idleVerdict(record, [report({ sweeping: true })]).idle, false)
  })

  it('a silent member holds idleness back while no live member owns a paused partition it owned', () => {
    const record: PauseRecord = withPause(emptyPauseRecord, [0, 1], alice)
    const ghost = { report: report({ member: 'ghost', revision: 0, owned: [0, 1, 2] }), silentMs: 12_400 }
    const alone = idleVerdict(record, [], [ghost])
    assert.deepEqual(alone.waitingFor, ['ghost: silent for 12 s, and no live member owns its partitions 0, 1'])
    const half = idleVerdict(record, [report({ revision: 1, owned: [1, 2], paused: [1] })], [ghost])
    assert.deepEqual(half.waitingFor, ['ghost: silent for 12 s, and no live member owns its partitions 0'])
    const taken = idleVerdict(record, [report({ revision: 1, owned: [0, 1, 2], paused: [0, 1] })], [ghost])
    assert.equal(taken.idle, true, 'the group gave its partitions to a live member')
    const elsewhere = { ...ghost, report: report({ member: 'ghost', owned: [0] }) }
    assert.equal(idleVerdict(withPause(emptyPauseRecord, [2], alice), [], [elsewhere]).idle, true)
  })
})
