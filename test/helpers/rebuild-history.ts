// What the rebuild tests share: a log of users with their orders, payments and inventory deltas, and plain SQL on
// the live tables behind the pipeline's back (for counting and reading them, and corrupting them by hand).
import { DatabaseSync } from 'node:sqlite'
import pg from 'pg'
import type { Database } from '../../src/config/index.ts'
import { inventoryAdjusted, orderPlaced, paymentSettled, type TestEvent, userCreated } from './events.ts'
import type { Cleanup } from './resources.ts'

export interface HistoryOptions {
  /** Appended to each user's name, so histories with the same users differ. */
  readonly nameTag?: string
  /** The sku of user `u`'s deltas. */
  readonly sku: (u: number) => string
}

/** Users u<from>…, each with 4 orders, 2 payments and 3 inventory deltas: 10 events per user. */
export function userHistory(from: number, users: number, { nameTag, sku }: HistoryOptions): TestEvent[] {
  const events: TestEvent[] = []
  for (let u = from; u < from + users; u++) {
    events.push(userCreated(`u${u}`, { name: nameTag === undefined ? `User ${u}` : `User ${u} ${nameTag}` }))
    for (let o = 0; o < 4; o++) events.push(orderPlaced(`o${u}-${o}`, `u${u}`, { total: u + o / 4 }))
    for (let o = 0; o < 2; o++) events.push(paymentSettled(`o${u}-${o}`, { amount: u + o / 4 }))
    for (let d = 0; d < 3; d++) events.push(inventoryAdjusted(sku(u), d + 1))
  }
  return events
}

export type Rows = Record<string, unknown>[]
export type Query = (text: string) => Promise<Rows>

/** Plain SQL on the database's live tables, closed at the test's end. */
export async function rawSql(t: Cleanup, database: Database): Promise<Query> {
  if (database.engine === 'sqlite') {
    const { path } = database
    return async text => {
      const db = new DatabaseSync(path)
      try {
        db.exec('PRAGMA busy_timeout = 10000')
        return db.prepare(text).all() as Rows
      } finally {
        db.close()
      }
    }
  }
  const client = new pg.Client({ connectionString: (database as { url: string }).url })
  client.on('error', () => {})
  await client.connect()
  t.after(() => client.end().catch(() => {}))
  return async text => (await client.query(text)).rows as Rows
}
