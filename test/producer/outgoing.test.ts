import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type Event, keyOf, parseEvent } from '../../src/events/index.ts'
import { outgoingOf } from '../../src/producer/outgoing.ts'
import { orderPlaced, userCreated } from '../helpers/events.ts'

/** Each record must hold exactly the bytes of its own texts, whatever the other events of the call are. */
function assertEncoded(events: Event[]): void {
  const out = outgoingOf(events)
  assert.equal(out.length, events.length)
  events.forEach((event, i) => {
    const record = out[i]!
    assert.deepEqual(record.value, Buffer.from(JSON.stringify(event), 'utf8'), `value of #${i}`)
    assert.deepEqual(record.key, Buffer.from(keyOf(event), 'utf8'), `key of #${i}`)
    assert.deepEqual(record.eventId, Buffer.from(event.eventId, 'utf8'), `eventId of #${i}`)
  })
}

describe('outgoingOf', () => {
  it('encodes ASCII events as views of one buffer, each field its own bytes', () => {
    const events = Array.from({ length: 50 }, (_, i) =>
      parseEvent(i % 2 === 0 ? userCreated(`user-${i}`) : orderPlaced(`order-${i}`, `user-${i}`)),
    )
    assertEncoded(events)
    const out = outgoingOf(events)
    assert.equal(out[0]!.value.buffer, out[49]!.eventId.buffer, 'one encoding for the whole call')
  })

  it('encodes every field on its own when a character is not ASCII', () => {
    const events = [
      parseEvent(userCreated('user-a')),
      parseEvent(userCreated('usér-ü', { name: 'Zoë 🚀 Ørsted', eventId: 'évt-1' })),
      parseEvent(orderPlaced('order-b', 'user-b')),
    ]
    assertEncoded(events)
    assertEncoded([events[1]!])
  })

  it('encodes escapes and control characters as JSON.stringify writes them', () => {
    assertEncoded([parseEvent(userCreated('user-q', { name: 'a "quoted" \\ name\twith\ttabs\n' }))])
  })

  it('answers an empty list with no records', () => {
    assert.deepEqual(outgoingOf([]), [])
  })
})
