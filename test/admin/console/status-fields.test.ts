// The console's event status, field by field: the key's dead letters its row does not reflect read for people.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { describeField } from '../../../src/admin/console/status-fields.ts'

describe('the event status view', () => {
  it("tells the key's dead letters the row does not reflect, or a dash without them", () => {
    const base = { eventId: 'e1', status: 'applied' as const, table: 'users', key: 'u1' }
    const told = describeField(
      { ...base, deadLettered: { count: 2, newestEventId: 'e9', partition: 1, offset: '90' } },
      'deadLettered',
    )
    assert.match(told, /^2 dead letter\(s\) of its key its row does not reflect; newest e9 at partition 1, offset 90$/)
    const noId = describeField(
      { ...base, deadLettered: { count: 1, newestEventId: null, partition: 0, offset: '3' } },
      'deadLettered',
    )
    assert.match(noId, /newest \(no eventId\)/)
    assert.equal(describeField(base, 'deadLettered'), '–')
  })
})
