// The records of a publish call as the bytes Kafka stores: each event's key, canonical JSON value and eventId
// (its header), as UTF-8. The client is given these buffers as they are (it has no serializers), so this is the
// only place the pipeline's records are encoded.
import { type Event, keyOf } from '../events/index.ts'

/** One record to send, as UTF-8 bytes. */
export interface Outgoing {
  readonly eventId: Buffer
  readonly key: Buffer
  /** The canonical JSON of the event. */
  readonly value: Buffer
}

/**
 * The records of `events`, in order. The texts of a whole call are encoded in one go and each record's fields are
 * views of that one buffer: encoding a short string costs much more per byte than a long one, and a request of
 * 100 events would otherwise encode 300 of them. The views are cut at the texts' string offsets, which are byte
 * offsets only when every character is ASCII (one byte in UTF-8): otherwise each field is encoded on its own.
 */
export function outgoingOf(events: readonly Event[]): Outgoing[] {
  const values = new Array<string>(events.length)
  const keys = new Array<string>(events.length)
  const parts = new Array<string>(events.length * 3)
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!
    const value = JSON.stringify(event)
    const key = keyOf(event)
    values[i] = value
    keys[i] = key
    parts[3 * i] = value
    parts[3 * i + 1] = key
    parts[3 * i + 2] = event.eventId
  }
  const text = parts.join('')
  const bytes = Buffer.from(text, 'utf8')
  const out = new Array<Outgoing>(events.length)
  if (bytes.length === text.length) {
    let at = 0
    const next = (length: number): Buffer => {
      const view = bytes.subarray(at, at + length)
      at += length
      return view
    }
    for (let i = 0; i < events.length; i++) {
      const value = next(values[i]!.length)
      const key = next(keys[i]!.length)
      out[i] = { eventId: next(events[i]!.eventId.length), key, value }
    }
  } else {
    for (let i = 0; i < events.length; i++) {
      out[i] = {
        eventId: Buffer.from(events[i]!.eventId, 'utf8'),
        key: Buffer.from(keys[i]!, 'utf8'),
        value: Buffer.from(values[i]!, 'utf8'),
      }
    }
  }
  return out
}
