// Waiting for pending events to settle: an order read before its user (keyed to another partition) waits in
// pending_events until the user is stored, a moment after the partitions' marks reached the log end. A verify
// before that would report it, honestly, as a difference.
import type { Database } from '../../src/config/index.ts'
import { createGenerations, createStore } from '../../src/store/index.ts'
import { eventually } from '../helpers/kafka.ts'

/** Waits until the live tables and generation `name` (when given) hold no pending event. */
export async function noPending(database: Database, name?: string): Promise<void> {
  const live = await createStore(database)
  const generations = await createGenerations(database)
  try {
    const shadow = name === undefined ? undefined : await generations.open(name)
    try {
      await eventually(
        'pending events to be applied',
        async () =>
          (await live.pendingStats()).count === 0 &&
          (shadow === undefined || (await shadow.pendingStats()).count === 0),
        30_000,
      )
    } finally {
      await shadow?.close()
    }
  } finally {
    await generations.close()
    await live.close()
  }
}
