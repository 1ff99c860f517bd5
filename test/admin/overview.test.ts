import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { partitionRows } from '../../src/admin/index.ts'
import { ageSeconds, probeRole } from '../../src/admin/overview.ts'

describe('partitionRows', () => {
  it('joins log ends with the group commits, sorted by partition', () => {
    const rows = partitionRows(
      new Map([
        [2, 50n],
        [0, 100n],
        [1, 7n],
      ]),
      new Map([
        [0, 90n],
        [1, 7n],
      ]),
    )
    assert.deepEqual(rows, [
      { partition: 0, end: 100, committed: 90, lag: 10 },
      { partition: 1, end: 7, committed: 7, lag: 0 },
      // Never committed: the whole log is lag, so a group stuck before its first commit shows.
      { partition: 2, end: 50, committed: null, lag: 50 },
    ])
  })

  it('treats the broker\'s -1 ("no commit") as none and never shows a negative lag', () => {
    const rows = partitionRows(
      new Map([
        [0, 10n],
        [1, 5n],
      ]),
      new Map([
        [0, -1n],
        [1, 6n],
      ]),
    )
    assert.deepEqual(rows, [
      { partition: 0, end: 10, committed: null, lag: 10 },
      { partition: 1, end: 5, committed: 6, lag: 0 },
    ])
  })
})

describe('ageSeconds', () => {
  it('is the rounded age, 0 for nothing, never negative', () => {
    const now = Date.parse('2026-01-01T00:01:00.000Z')
    assert.equal(ageSeconds('2026-01-01T00:00:00.000Z', now), 60)
    assert.equal(ageSeconds(undefined, now), 0)
    assert.equal(ageSeconds('2026-01-01T00:02:00.000Z', now), 0)
    assert.equal(ageSeconds('not a date', now), 0)
  })
})

describe('probeRole', () => {
  it('reports a role that does not answer as unreachable, within the timeout', async () => {
    const started = Date.now()
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    const probe = await probeRole('http://127.0.0.1:9', 'Bearer x', 500)
    assert.deepEqual(probe, { url: 'http://127.0.0.1:9', health: 'unreachable', ready: 'unreachable' })
    assert.ok(Date.now() - started < 2000)
  })
})
