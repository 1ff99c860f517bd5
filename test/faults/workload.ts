// The workload of the fault tests and the audit that follows each fault: every event is looked up in SQL and
// the DLQ, and the test reports one line:
//   faults: N/N survived, events lost 0, deltas applied twice 0, dead-lettered by mistake 0
import assert from 'node:assert/strict'
import pg from 'pg'
import { inventoryAdjusted, userCreated } from '../helpers/events.ts'
import type { RawRecord } from '../helpers/kafka.ts'

/** Short in `npm test`, longer in `npm run test:faults` (FAULTS_FULL=1). */
export const full = process.env['FAULTS_FULL'] === '1'

export interface Workload {
  readonly run: string
  readonly records: RawRecord[]
  readonly users: number
  readonly deltas: number
  /** Each user's name in its last event: per-key order holds when this is what the store shows. */
  readonly lastName: Map<string, string>
}

/**
 * Users (each created, then renamed twice: the last name must win) and +1 deltas over a few SKUs, so that a
 * quantity above the ledger count is a delta applied twice.
 */
export function makeWorkload(run: string, users: number, deltas: number, skus = 10): Workload {
  const records: RawRecord[] = []
  const lastName = new Map<string, string>()
  for (let i = 0; i < users; i++) {
    const userId = `${run}-u-${i}`
    for (let version = 0; version < 3; version++) {
      const e = userCreated(userId, { name: `v${version}` })
      records.push({ key: userId, value: JSON.stringify(e) })
      lastName.set(userId, `v${version}`)
    }
  }
  for (let i = 0; i < deltas; i++) {
    const sku = `${run}-sku-${i % skus}`
    records.push({ key: sku, value: JSON.stringify(inventoryAdjusted(sku, 1)) })
  }
  return { run, records, users, deltas, lastName }
}

export interface Audit {
  lost: number
  appliedTwice: number
  outOfOrder: number
}

export async function audit(databaseUrl: string, workload: Workload): Promise<Audit> {
  const db = new pg.Client({ connectionString: databaseUrl })
  db.on('error', () => {})
  await db.connect()
  try {
    const like = `${workload.run}-%`
    const users = (await db.query('SELECT user_id, name FROM users WHERE user_id LIKE $1', [like])).rows as {
      user_id: string
      name: string
    }[]
    const ledger = Number(
      (await db.query('SELECT COUNT(*) AS n FROM inventory_ledger WHERE sku LIKE $1', [like])).rows[0].n,
    )
    const quantities = Number(
      (await db.query('SELECT COALESCE(SUM(quantity), 0) AS n FROM inventory WHERE sku LIKE $1', [like])).rows[0].n,
    )
    const outOfOrder = users.filter(u => workload.lastName.get(u.user_id) !== u.name).length
    return {
      lost: workload.users - users.length + (workload.deltas - ledger),
      appliedTwice: quantities - ledger,
      outOfOrder,
    }
  } finally {
    await db.end()
  }
}

/** Prints the report line and fails the test unless every count is zero. */
export function report(name: string, faults: number, survived: number, result: Audit, mistaken: number): void {
  const line = `faults: ${survived}/${faults} survived, events lost ${result.lost}, deltas applied twice ${result.appliedTwice}, dead-lettered by mistake ${mistaken}`
  console.log(`${name}: ${line}${result.outOfOrder > 0 ? `, out of order ${result.outOfOrder}` : ''}`)
  assert.equal(survived, faults, line)
  assert.equal(result.lost, 0, line)
  assert.equal(result.appliedTwice, 0, line)
  assert.equal(mistaken, 0, line)
  assert.equal(result.outOfOrder, 0, 'per-key order: every user shows the name of its last event')
}

/** Sum of the group's committed offsets on the topic. */
export function sum(values: Iterable<bigint>): bigint {
  let total = 0n
  for (const v of values) total += v
  return total
}
