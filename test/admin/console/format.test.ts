// The console's formatters: numbers, times, durations, sizes, truncation and Kafka positions.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  entryCount,
  formatBytes,
  formatDuration,
  formatNumber,
  formatPosition,
  formatTime,
  plural,
  truncate,
} from '../../../src/admin/console/format.ts'

describe('console formatters', () => {
  it('writes counts in the locale, a dash for what the server did not send', () => {
    assert.equal(formatNumber(1234567), new Intl.NumberFormat().format(1234567))
    assert.equal(formatNumber(null), '–')
    assert.equal(formatNumber(undefined), '–')
    assert.equal(formatNumber(Number.NaN), '–')
    assert.equal(entryCount(1), '1 entry')
    assert.equal(entryCount(0), '0 entries')
    assert.equal(plural(2, 'dead letter', 'dead letters'), '2 dead letters')
  })

  it('writes times in the local zone, and keeps text that is not a time', () => {
    const iso = '2025-01-11T12:00:00.000Z'
    assert.equal(formatTime(iso), new Date(iso).toLocaleString())
    assert.equal(formatTime(null), '–')
    assert.equal(formatTime(''), '–')
    assert.equal(formatTime('yesterday'), 'yesterday')
  })

  it('writes durations in at most two units', () => {
    assert.equal(formatDuration(0), '0 s')
    assert.equal(formatDuration(45), '45 s')
    assert.equal(formatDuration(60), '1 min')
    assert.equal(formatDuration(185), '3 min 5 s')
    assert.equal(formatDuration(7200), '2 h')
    assert.equal(formatDuration(7260), '2 h 1 min')
    assert.equal(formatDuration(7201), '2 h')
    assert.equal(formatDuration(100_800), '1 d 4 h')
    assert.equal(formatDuration(-5), '0 s')
    assert.equal(formatDuration(Number.POSITIVE_INFINITY), '–')
  })

  it('writes sizes in binary units', () => {
    assert.equal(formatBytes(0), '0 B')
    assert.equal(formatBytes(512), '512 B')
    assert.equal(formatBytes(1536), '1.5 KiB')
    assert.equal(formatBytes(2 * 1024 * 1024), '2.0 MiB')
    assert.equal(formatBytes(5 * 1024 ** 4), '5.0 TiB')
    assert.equal(formatBytes(-1), '–')
  })

  it('cuts long text with an ellipsis, within the limit', () => {
    assert.equal(truncate('short', 10), 'short')
    assert.equal(truncate('exactly10!', 10), 'exactly10!')
    assert.equal(truncate('a longer text', 6), 'a lon…')
    assert.equal(truncate('a longer text', 6).length, 6)
    assert.equal(truncate('x', 0), '')
  })

  it('writes a Kafka position, or says there is none', () => {
    assert.equal(formatPosition({ topic: 'events', partition: 2, offset: '17' }), 'events/2@17')
    assert.equal(formatPosition(null), 'never reached Kafka')
  })
})
