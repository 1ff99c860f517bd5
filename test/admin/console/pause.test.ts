// The console's pause view, its pure parts: the partitions field read as a scope, what is paused and whether the
// members stopped, each member's row, and the question asked before a pause or a resume.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AdminApi } from '../../../src/admin/console/api.ts'
import {
  confirmText,
  idleText,
  memberCells,
  partitionsOf,
  pauseSummary,
} from '../../../src/admin/console/pause-text.ts'
import type { PauseState } from '../../../src/admin/console/types.ts'

const at = '2026-01-01T00:00:00.000Z'
const state = (over: Partial<PauseState> = {}): PauseState => ({
  groupId: 'g',
  topic: 't',
  revision: 3,
  all: null,
  partitions: [],
  members: [],
  silent: [],
  idle: true,
  waitingFor: [],
  ...over,
})
const member = { member: 'host:1:abc', revision: 3, owned: [0, 1, 2], paused: [2], busy: [], sweeping: false, at }

describe('the pause view', () => {
  it('reads the partitions field: empty is every partition, numbers by commas or blanks', () => {
    assert.equal(partitionsOf(''), 'all')
    assert.equal(partitionsOf('  '), 'all')
    assert.deepEqual(partitionsOf('0, 2 5'), [0, 2, 5])
    assert.throws(() => partitionsOf('1, x'), /"x" is not a partition number/)
    assert.throws(() => partitionsOf('-1'), /not a partition number/)
  })

  it('says what is paused, by whom and why', () => {
    assert.equal(pauseSummary(state()), 'Nothing is paused.')
    assert.equal(
      pauseSummary(state({ partitions: [{ partition: 2, by: 'cli', at, reason: 'x' }] })),
      'Partition 2 paused.',
    )
    assert.equal(
      pauseSummary(
        state({
          partitions: [
            { partition: 0, by: 'cli', at, reason: '' },
            { partition: 2, by: 'cli', at, reason: '' },
          ],
        }),
      ),
      'Partitions 0, 2 paused.',
    )
    const all = pauseSummary(state({ all: { by: 'admin-api 10.0.0.1', at, reason: 'rebuild' } }))
    assert.equal(
      all,
      `Every partition is paused, by admin-api 10.0.0.1 since ${new Date(at).toLocaleString()}: rebuild.`,
    )
  })

  it('says whether the members stopped, and why not', () => {
    const paused = { all: { by: 'cli', at, reason: '' } }
    assert.equal(idleText(state()), '', 'nothing to say while nothing is paused')
    assert.match(idleText(state(paused)), /No live member reports/)
    assert.equal(idleText(state({ ...paused, members: [member] })), 'Every live member has stopped what is paused.')
    assert.equal(
      idleText(
        state({ ...paused, members: [member], idle: false, waitingFor: ['m: batches of partitions 2 in flight'] }),
      ),
      'Not idle yet: m: batches of partitions 2 in flight',
    )
  })

  it("writes a member's row, and whether it read the latest record", () => {
    assert.deepEqual(memberCells(state(), member), [
      'host:1:abc',
      '0, 1, 2',
      '2',
      '–',
      'yes',
      new Date(at).toLocaleString(),
    ])
    const behind = memberCells(state({ revision: 4 }), { ...member, busy: [2], sweeping: true })
    assert.equal(behind[3], '2 (pending sweep)')
    assert.equal(behind[4], 'not yet (has revision 3 of 4)')
  })

  it('asks before it pauses or resumes, naming the scope and the group', () => {
    assert.match(confirmText('pause', 'all', 'g'), /^Pause every partition of consumer group g\?/)
    assert.match(confirmText('pause', [1], 'g'), /^Pause partition 1 of consumer group g\?/)
    assert.match(confirmText('resume', [0, 2], 'g'), /^Resume partitions 0, 2 of consumer group g\? Processing goes on/)
  })
})

describe('the pause routes, as the console calls them', () => {
  it('reads the state, pauses with the scope and the reason, resumes', async () => {
    const calls: [string, string | undefined, unknown][] = []
    const api = new AdminApi({
      tokens: { get: () => 'the-token', set: () => {}, clear: () => {} },
      fetch: async (url, init) => {
        calls.push([url, init.method, typeof init.body === 'string' ? JSON.parse(init.body) : undefined])
        return new Response(JSON.stringify(state()), { status: 200 })
      },
    })
    assert.equal((await api.pauseState()).groupId, 'g')
    await api.pause({ partitions: [1], reason: 'why' })
    await api.resume({})
    assert.deepEqual(calls, [
      ['/admin/consumer/pause', 'GET', undefined],
      ['/admin/consumer/pause', 'POST', { partitions: [1], reason: 'why' }],
      ['/admin/consumer/resume', 'POST', {}],
    ])
  })
})
