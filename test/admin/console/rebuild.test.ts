// The console's rebuild view, its pure parts: which buttons the rebuild's state enables (held equal to the
// server's own table), the state and progress for people, the bar, the bad records, the verify report with its
// differing keys side by side and bounded, the questions asked before swap, rollback, abort and drop-old, and the
// start form read as the route's body. Then the rebuild routes as the console calls them.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AdminApi } from '../../../src/admin/console/api.ts'
import {
  allowed,
  badCells,
  badText,
  changedColumns,
  confirmText,
  diffLimits,
  diffRows,
  doneFraction,
  partitionCells,
  progressText,
  rebuildCommands,
  rowText,
  shownStates,
  startBody,
  stateText,
  tableCells,
  verifyText,
} from '../../../src/admin/console/rebuild-text.ts'
import type { RebuildStatus, RebuildVerify } from '../../../src/admin/console/types.ts'
import { finishedStates, rebuildStates, refusal } from '../../../src/rebuild/state.ts'

const at = '2026-01-01T00:00:00.000Z'
const local = (iso: string) => new Date(iso).toLocaleString()

const status = (over: Partial<RebuildStatus> = {}): RebuildStatus => ({
  id: 3,
  state: 'filling',
  generation: 'rebuild_3',
  group: 'g-rebuild-3',
  topic: 'events',
  by: 'admin-api 10.0.0.1',
  startedAt: at,
  from: null,
  updatedAt: at,
  worker: { active: true, leaseLeftMs: 9000 },
  progress: null,
  badRecords: { count: 0, first: [] },
  verify: null,
  error: null,
  ...over,
})

type Progress = NonNullable<RebuildStatus['progress']>
const partition = (p: number, reached: number, end: number, perSecond = 0, etaSeconds: number | null = null) => ({
  partition: p,
  reached: String(reached),
  end: String(end),
  lag: Math.max(0, end - reached),
  perSecond,
  etaSeconds,
})
const progress = (over: Partial<Progress> = {}): Progress => ({
  at,
  partitions: [partition(0, 250, 1000, 120.5, 7), partition(1, 1000, 1000, 0, 0)],
  lag: 750,
  perSecond: 120.5,
  etaSeconds: 7,
  caughtUp: false,
  rated: true,
  ...over,
})

describe('the rebuild view: which commands the state allows', () => {
  it("knows the server's states, and verifying", () => {
    assert.deepEqual(shownStates, [...rebuildStates, 'verifying'])
  })

  it("agrees with the server's table for every stored state and command", () => {
    for (const state of rebuildStates) {
      const shown = status({ state, worker: { active: false, leaseLeftMs: 0 } })
      for (const command of ['verify', 'swap', 'rollback', 'abort', 'drop-old'] as const) {
        assert.equal(allowed(command, shown), refusal(command, state) === undefined, `${command} when ${state}`)
      }
      const resumable = refusal('resume', state) === undefined || state === 'filling' || state === 'caught-up'
      assert.equal(allowed('resume', shown), resumable, `resume when ${state} and no process on it`)
      assert.equal(allowed('start', shown), finishedStates.includes(state), `start when ${state}`)
    }
  })

  it('allows only start without a rebuild, nothing while a verify runs', () => {
    assert.deepEqual(
      rebuildCommands.filter(c => allowed(c, undefined)),
      ['start'],
    )
    assert.deepEqual(
      rebuildCommands.filter(c => allowed(c, status({ state: 'verifying' }))),
      [],
    )
  })

  it('rolls back or drops the old tables only once the swap has closed its gap (released the lease)', () => {
    const swapped = status({ state: 'swapped' })
    assert.equal(allowed('rollback', swapped), false)
    assert.equal(allowed('drop-old', swapped), false)
    assert.match(stateText(swapped), /Applying what the live consumer applied meanwhile…$/)
    const settled = status({ state: 'swapped', worker: { active: false, leaseLeftMs: 0 } })
    assert.deepEqual(
      rebuildCommands.filter(c => allowed(c, settled)),
      ['rollback', 'drop-old'],
    )
  })

  it('resumes a filling rebuild only when no process works on it', () => {
    assert.equal(allowed('resume', status({ state: 'filling' })), false)
    assert.equal(allowed('resume', status({ state: 'caught-up', worker: { active: false, leaseLeftMs: 0 } })), true)
    assert.equal(allowed('resume', status({ state: 'stopped', worker: { active: false, leaseLeftMs: 0 } })), true)
  })
})

describe('the rebuild view: state and progress for people', () => {
  it('says which rebuild, its state, who started it, from where', () => {
    assert.equal(stateText(undefined), 'No rebuild of this store. Start one to fill a shadow copy from the log.')
    assert.equal(
      stateText(status()),
      `Rebuild 3 (rebuild_3) is filling, started by admin-api 10.0.0.1 at ${local(at)}, from the earliest record.`,
    )
    assert.equal(
      stateText(status({ state: 'stopped', from: at, worker: { active: false, leaseLeftMs: 0 } })),
      `Rebuild 3 (rebuild_3) is stopped, started by admin-api 10.0.0.1 at ${local(at)}, from ${local(at)}.`,
    )
    assert.match(
      stateText(status({ state: 'caught-up', worker: { active: false, leaseLeftMs: 0 } })),
      /No process works on it now\.$/,
    )
  })

  it("writes a partition's row: reached, end, lag, rate, ETA", () => {
    assert.deepEqual(partitionCells(partition(0, 250, 12000, 120.5, 7)), [
      '0',
      (250).toLocaleString(),
      (12000).toLocaleString(),
      (11750).toLocaleString(),
      (120.5).toLocaleString(),
      '7 s',
    ])
    assert.equal(partitionCells(partition(2, 0, 10, 0, null))[5], '–', 'nothing moves: no ETA')
  })

  it('fills the bar with the offsets reached over the log ends', () => {
    assert.equal(doneFraction(null), 0)
    assert.equal(doneFraction(progress()), 1250 / 2000)
    assert.equal(doneFraction(progress({ partitions: [partition(0, 0, 0)] })), 1, 'an empty log is done')
    assert.equal(doneFraction(progress({ caughtUp: true })), 1)
    // Records arrive between the two looks: a shadow past the end it was compared with counts as at the end.
    assert.equal(doneFraction(progress({ partitions: [partition(0, 12, 10), partition(1, 0, 10)] })), 0.5)
  })

  it('says how far behind, how fast, and when done', () => {
    assert.equal(progressText(null), 'No progress measured yet.')
    assert.equal(
      progressText(progress()),
      `750 records behind, ${(120.5).toLocaleString()} rows/s, ETA 7 s (at ${local(at)}).`,
    )
    assert.equal(
      progressText(progress({ rated: false, etaSeconds: null })),
      `750 records behind, rate not measured yet, no ETA (at ${local(at)}).`,
    )
    assert.equal(progressText(progress({ caughtUp: true, lag: 0 })), `Caught up with the log end (at ${local(at)}).`)
  })

  it('counts the bad records and lists them cut to one line', () => {
    assert.equal(badText({ count: 0, first: [] }), 'No bad records.')
    const bad = { code: 'SCHEMA_VIOLATION', message: 'x'.repeat(500), partition: 1, offset: '42', eventId: 'e-1' }
    assert.equal(badText({ count: 1, first: [bad] }), '1 bad record, dead-lettered by the live consumer.')
    assert.equal(
      badText({ count: 250, first: [bad] }),
      '250 bad records, dead-lettered by the live consumer (the first 1 below).',
    )
    const cells = badCells(bad)
    assert.deepEqual(cells.slice(0, 3), ['SCHEMA_VIOLATION', '1@42', 'e-1'])
    assert.equal(cells[3]?.length, 200)
    assert.deepEqual(badCells({ ...bad, partition: null, offset: null, eventId: null }).slice(1, 3), ['–', '–'])
  })
})

describe('the rebuild view: the verify report', () => {
  const table = (over: Partial<RebuildVerify['tables'][number]> = {}) => ({
    table: 'users',
    liveRows: 10,
    shadowRows: 10,
    liveChecksum: 'abc',
    shadowChecksum: 'abc',
    differing: [],
    ...over,
  })
  const report = (tables: RebuildVerify['tables']): RebuildVerify => ({
    summary: {
      at,
      by: 'admin-api 10.0.0.1',
      matches: tables.every(t => t.differing.length === 0),
      tables: tables.map(t => ({ ...t, differing: t.differing.length })),
    },
    tables,
  })
  const lost = {
    key: 'o5',
    live: { order_id: 'o5', status: 'lost', total: 3 },
    shadow: { order_id: 'o5', status: 'placed', total: 3 },
  }

  it('says match, or which tables differ', () => {
    assert.equal(
      verifyText(report([table()])),
      `Match: every table holds the same rows live and rebuilt. Verified at ${local(at)} by admin-api 10.0.0.1.`,
    )
    assert.match(
      verifyText(report([table(), table({ table: 'orders', shadowChecksum: 'abd', differing: [lost] })])),
      /^Differ: orders\. Verified at /,
    )
  })

  it("writes a table's counts and checksums, and its verdict", () => {
    assert.deepEqual(tableCells(table()), ['users', '10', '10', 'abc', 'abc', 'match'])
    const long = 'f'.repeat(64)
    const cells = tableCells(table({ shadowRows: 9, liveChecksum: long, differing: [lost] }))
    assert.equal(cells[3], `${'f'.repeat(19)}…`)
    assert.equal(cells[5], 'differ (1 key shown)')
  })

  it('shows a differing key side by side: the columns that differ, both versions', () => {
    assert.deepEqual(changedColumns(lost.live, lost.shadow), ['status'])
    assert.deepEqual(changedColumns(null, { a: 1, b: 2 }), ['a', 'b'])
    assert.deepEqual(diffRows(table({ differing: [lost] })), [
      {
        key: 'o5',
        changed: 'status',
        live: JSON.stringify(lost.live, null, 2),
        shadow: JSON.stringify(lost.shadow, null, 2),
      },
    ])
    assert.equal(rowText(null), '(absent)')
  })

  it('bounds what it shows: so many keys, so many characters each', () => {
    const many = Array.from({ length: 300 }, (_, i) => ({
      key: `k${i}`,
      live: { v: 'x'.repeat(10_000) },
      shadow: null,
    }))
    const rows = diffRows(table({ differing: many }))
    assert.equal(rows.length, diffLimits.keys)
    assert.equal(rows[0]?.live.length, diffLimits.chars)
    assert.equal(rows[0]?.shadow, '(absent)')
    assert.equal(
      diffRows(table({ differing: [{ key: 'k'.repeat(1000), live: null, shadow: null }] }))[0]?.key.length,
      200,
    )
  })
})

describe('the rebuild view: questions and the start form', () => {
  it('names what swap, rollback, abort and drop-old will do', () => {
    const s = status({ state: 'caught-up' })
    assert.match(
      confirmText('swap', s),
      /^Swap rebuild 3 in\? The live consumer group pauses .* rebuild_3's tables become the live ones/,
    )
    assert.match(
      confirmText('rollback', s),
      /^Roll back rebuild 3\? The tables the swap replaced become the live ones again/,
    )
    assert.match(confirmText('abort', s), /^Abort rebuild 3\? Its fill stops and rebuild_3 is dropped/)
    assert.match(confirmText('drop-old', s), /Rollback is no longer possible afterwards\.$/)
  })

  it('reads "from": empty is the earliest record, else a past time sent as UTC', () => {
    const now = Date.parse('2026-06-01T00:00:00Z')
    assert.deepEqual(startBody('  ', now), {})
    assert.deepEqual(startBody('2026-01-01T00:00:00Z', now), { from: '2026-01-01T00:00:00.000Z' })
    const localTime = '2026-01-01T12:30:00'
    assert.deepEqual(startBody(localTime, now), { from: new Date(localTime).toISOString() })
    assert.throws(() => startBody('yesterday', now), /"yesterday" is not a time/)
    assert.throws(() => startBody('2027-01-01T00:00:00Z', now), /is in the future/)
  })
})

describe('the rebuild routes, as the console calls them', () => {
  const api = (answer: (url: string) => Response, calls: [string, string | undefined, unknown][]) =>
    new AdminApi({
      tokens: { get: () => 'the-token', set: () => {}, clear: () => {} },
      fetch: async (url, init) => {
        calls.push([url, init.method, typeof init.body === 'string' ? JSON.parse(init.body) : undefined])
        return answer(url)
      },
    })

  it('reads the status, starts, verifies, sends the other commands', async () => {
    const calls: [string, string | undefined, unknown][] = []
    const client = api(() => new Response(JSON.stringify(status()), { status: 200 }), calls)
    assert.equal((await client.rebuildStatus())?.id, 3)
    await client.startRebuild({ from: at })
    await client.verifyRebuild(5)
    for (const command of ['resume', 'swap', 'rollback', 'abort', 'drop-old'] as const)
      await client.rebuildCommand(command)
    assert.deepEqual(calls, [
      ['/admin/rebuild', 'GET', undefined],
      ['/admin/rebuild/start', 'POST', { from: at }],
      ['/admin/rebuild/verify', 'POST', { limit: 5 }],
      ['/admin/rebuild/resume', 'POST', {}],
      ['/admin/rebuild/swap', 'POST', {}],
      ['/admin/rebuild/rollback', 'POST', {}],
      ['/admin/rebuild/abort', 'POST', {}],
      ['/admin/rebuild/drop-old', 'POST', {}],
    ])
  })

  it("reads no rebuild from a 404, and carries a 409's message", async () => {
    const calls: [string, string | undefined, unknown][] = []
    const refuse = (code: number, message: string) =>
      new Response(JSON.stringify({ error: { code: 'X', message } }), { status: code })
    const none = api(() => refuse(404, 'there is no rebuild of this store'), calls)
    assert.equal(await none.rebuildStatus(), undefined)
    const busy = api(() => refuse(409, 'rebuild 3 is caught-up: cannot rollback it now'), calls)
    await assert.rejects(busy.rebuildCommand('rollback'), {
      name: 'ApiError',
      status: 409,
      message: 'POST /admin/rebuild/rollback: rebuild 3 is caught-up: cannot rollback it now',
    })
    await assert.rejects(busy.rebuildStatus(), { status: 409 }, 'only a 404 means none')
  })
})
