// Whether a rebuild from the earliest record would miss deleted records, and the start-up warning for a topic
// whose settings will delete them.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { retentionRefusal, retentionWarning } from '../../src/rebuild/retention.ts'

const keepAll = { retentionMs: -1, retentionBytes: -1, cleanupPolicy: 'delete' }
const week = { retentionMs: 604_800_000, retentionBytes: -1, cleanupPolicy: 'delete' }

describe('rebuild and retention', () => {
  it('allows a log that still starts at offset 0 everywhere, whatever the settings say', () => {
    const starts = new Map([
      [0, 0n],
      [1, 0n],
    ])
    assert.equal(retentionRefusal('events', starts, week), undefined)
    assert.equal(retentionRefusal('events', new Map(), week), undefined)
  })

  it('refuses a log that lost records, naming each partition’s earliest offset and the setting', () => {
    const starts = new Map([
      [0, 0n],
      [1, 1200n],
      [2, 50n],
    ])
    const why = retentionRefusal('events', starts, week) ?? ''
    assert.match(why, /partition 1 starts at offset 1200, partition 2 starts at offset 50/)
    assert.match(why, /retention\.ms=604800000/)
    assert.match(why, /--from TIMESTAMP/)
    assert.doesNotMatch(why, /partition 0/)
    // Records deleted by hand (kafka-delete-records) while the topic keeps everything: still refused.
    assert.match(retentionRefusal('events', starts, keepAll) ?? '', /retention\.ms=-1/)
  })

  it('bounds the list of partitions it names', () => {
    const starts = new Map(Array.from({ length: 50 }, (_, p) => [p, 10n] as [number, bigint]))
    const why = retentionRefusal('events', starts, week) ?? ''
    assert.match(why, /partition 19 starts/)
    assert.doesNotMatch(why, /partition 20 starts/)
    assert.match(why, /and 30 more/)
  })

  it('warns at start about age, size and compaction, and not about a topic that keeps everything', () => {
    assert.equal(retentionWarning('events', keepAll), undefined)
    assert.match(retentionWarning('events', week) ?? '', /topic events deletes records \(retention\.ms=604800000\)/)
    assert.match(
      retentionWarning('events', { retentionMs: -1, retentionBytes: 1_000_000, cleanupPolicy: 'compact,delete' }) ?? '',
      /retention\.bytes=1000000, cleanup\.policy=compact,delete/,
    )
  })
})
