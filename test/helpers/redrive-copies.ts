// The exactly-once check of a redrive, from the topic itself: every redriven copy carries x-redrive-id and the
// eventId header; each expected eventId must be there exactly once.
import type { TopicRecord } from './kafka.ts'

export interface CopyCheck {
  /** Redriven copies per eventId. */
  readonly copies: ReadonlyMap<string, number>
  readonly duplicates: readonly string[]
  readonly missing: readonly string[]
  /** Copies of eventIds nobody expected. */
  readonly unexpected: readonly string[]
}

export function checkCopies(records: readonly TopicRecord[], expected: readonly string[]): CopyCheck {
  const copies = new Map<string, number>()
  for (const r of records) {
    if (!r.headers.has('x-redrive-id')) continue
    const id = r.headers.get('eventId') ?? '(no eventId header)'
    copies.set(id, (copies.get(id) ?? 0) + 1)
  }
  const wanted = new Set(expected)
  return {
    copies,
    duplicates: [...copies].filter(([, n]) => n > 1).map(([id]) => id),
    missing: expected.filter(id => !copies.has(id)),
    unexpected: [...copies.keys()].filter(id => !wanted.has(id)),
  }
}
