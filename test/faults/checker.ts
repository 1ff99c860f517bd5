// The fault checker: what should have happened to a workload, worked out from the records actually in the
// Kafka topic (partition and offset included), compared with three independent looks at the outcome — the SQL
// tables, the pending_events table and every DLQ entry. It imports nothing from src/: the rules it applies are
// in rules.ts and below, written from the contract, so a consumer bug cannot hide behind shared code.
//
// The rules (with `pendingMayExpire`, PENDING_MAX_AGE may pass during the test; else it is assumed longer):
// - every record is applied or dead-lettered exactly once, identified by topic/partition/offset;
// - a state key (users by userId, orders and payments by orderId) holds the fields and event_id of its winner:
//   the record with the greatest (timestamp, offset); equal timestamps resolve by position;
// - each distinct InventoryAdjusted eventId applies once (its first record in the log, by the records' own
//   offsets); a later record re-using the eventId with other content is dead-lettered EVENT_ID_CONFLICT, an
//   identical one is a no-op; quantity per sku is the sum of the applied deltas and the ledger has exactly one
//   row per applied eventId;
// - an OrderPlaced whose user is never stored waits in pending_events; one whose user is stored is in orders;
//   when pending orders may expire, any order record may instead be dead-lettered CONSTRAINT_VIOLATION once, and
//   then it is not applied: the row holds the winner among the orders not dead-lettered (applied or
//   dead-lettered, never both);
// - a redriven copy (its first x-redrive-source header naming a record before it: originOf) is a record like any
//   other, at the position of the record it copies; the entry of a record that was redriven may be gone from
//   the DLQ;
// - an invalid record is dead-lettered once with its code, and so is an event dated more than MAX_EVENT_SKEW (the
//   default, 1 h) after its record's Kafka timestamp (EVENT_TIME_SKEW).
import assert from 'node:assert/strict'
import { DatabaseSync } from 'node:sqlite'
import { Redis } from 'ioredis'
import pg from 'pg'
import type { RawRecord, TopicRecord } from '../helpers/kafka.ts'
import { readTopic } from '../helpers/kafka.ts'
import { redisHostPort, testServices } from '../helpers/services.ts'
import { classify, dateMs, type ValidEvent } from './rules.ts'

type Row = Record<string, unknown>

export interface SqlState {
  users: Row[]
  orders: Row[]
  payments: Row[]
  inventory: Row[]
  ledger: Row[]
  /** null when the table does not exist. */
  pending: Row[] | null
}

export interface DlqEntry {
  topic: string | null
  partition: number | null
  offset: string | null
  code: string | null
  source: string | null
  raw: string
}

export interface Observed {
  topic: string
  records: TopicRecord[]
  sql: SqlState
  dlq: DlqEntry[]
}

/** What was produced: records with key and value, found in the topic by their bytes, and eventIds that the
 * HTTP producer acknowledged (it re-serialises events, so they are found by eventId). */
export interface Produced {
  records?: readonly RawRecord[]
  eventIds?: readonly string[]
  /** The consumer's CONSUMER_RECORD_MAX_BYTES: a record (key and value) above it must be RECORD_TOO_LARGE. */
  recordMaxBytes?: number
  /** PENDING_MAX_AGE is short enough to pass during the test: orders may be dead-lettered as expired. */
  pendingMayExpire?: boolean
  /**
   * Nothing redrove a dead letter during the test: an x-redrive-source header (written by hand) says nothing about
   * its original's DLQ entry, which must still be there.
   */
  noRedrive?: boolean
}

const classes = ['lost', 'appliedTwice', 'mistaken', 'dlqTwice', 'orderViolations', 'missingFromDlq'] as const
type ClassName = (typeof classes)[number]

export interface CheckResult {
  counts: Record<ClassName, number>
  examples: Record<ClassName, string[]>
  /** What the workload exercised, read from the topic (so a test can assert the workload can expose a bug). */
  stats: {
    records: number
    invalid: number
    orders: number
    ordersOnAnotherPartition: number
    ordersPending: number
    equalTimestampKeys: number
    redeliveries: number
    conflicts: number
    producerEntries: number
    /** DLQ entries for valid OrderPlaced records. */
    ordersDeadLettered: number
    /** Order records dead-lettered because their user was not stored within PENDING_MAX_AGE. */
    ordersExpired: number
    /** Redriven copies in the topic. */
    copies: number
  }
}

const pos = (r: { partition: number; offset: bigint }) => `${r.partition}:${r.offset}`

const redriveHeader = Buffer.from('x-redrive-source')
const utf8 = new TextDecoder('utf-8', { fatal: true })
const topicName = /^[a-zA-Z0-9._-]{1,249}$/

/**
 * The record a redriven copy names, by the contract (docs/architecture.md, "The projection is a function of the
 * log"): the first header named exactly x-redrive-source, whose value is `topic/partition/offset` — a Kafka topic
 * name, a partition up to 2^31-1 and an offset up to 2^63-1 in decimal digits — and which is not at or after the
 * copy in the copy's own partition. Anything else names nothing: the copy is its own record.
 */
function originOf(r: TopicRecord, topic: string): { topic: string; partition: number; offset: bigint } | undefined {
  const header = r.rawHeaders.find(([name]) => name?.equals(redriveHeader))
  if (header === undefined || header[1] === null) return undefined
  let text: string
  try {
    text = utf8.decode(header[1])
  } catch {
    return undefined
  }
  const parts = text.split('/')
  if (parts.length !== 3) return undefined
  const [name, p, o] = parts as [string, string, string]
  if (!topicName.test(name) || !/^[0-9]{1,10}$/.test(p) || !/^[0-9]{1,19}$/.test(o)) return undefined
  const partition = Number(p)
  const offset = BigInt(o)
  if (partition > 2 ** 31 - 1 || offset > 2n ** 63n - 1n) return undefined
  if (name === topic && partition === r.partition && offset >= r.offset) return undefined
  return { topic: name, partition, offset }
}
const ms = (v: unknown) =>
  v instanceof Date ? v.getTime() : v === null || v === undefined ? null : Date.parse(String(v))
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v))

interface Located {
  record: TopicRecord
  event: ValidEvent
}

/** Compares the expected projection of `observed.records` with what the stores hold. Pure: no I/O. */
export function check(produced: Produced, observed: Observed): CheckResult {
  const counts = Object.fromEntries(classes.map(c => [c, 0])) as Record<ClassName, number>
  const examples = Object.fromEntries(classes.map(c => [c, [] as string[]])) as Record<ClassName, string[]>
  const fail = (c: ClassName, what: string) => {
    counts[c]++
    if (examples[c].length < 10) examples[c].push(what)
  }
  // A record's place in the log: a redriven copy's is the original's. Places compare by partition and offset;
  // the topic takes no part (a pipeline reads one topic, and the stores keep no topic in the comparison).
  // Read once per record: a record may carry hundreds of headers, and places are compared pair by pair.
  const origins = new Map(observed.records.map(r => [r, originOf(r, observed.topic)]))
  const place = (r: TopicRecord) => origins.get(r) ?? r
  const later = (a: TopicRecord, b: TopicRecord) => {
    const [x, y] = [place(a), place(b)]
    return x.partition === y.partition && x.offset > y.offset
  }
  // Records that were redriven: their own entries may have left the DLQ once their copies were in Kafka.
  const redriven = new Set<string>()
  if (produced.noRedrive !== true) {
    for (const origin of origins.values()) {
      if (origin !== undefined && origin.topic === observed.topic) redriven.add(pos(origin))
    }
  }
  // Order records dead-lettered as expired pending events, by position (only looked at when they may expire).
  const expiredAt = new Set<string>()
  if (produced.pendingMayExpire === true) {
    for (const e of observed.dlq) {
      if (e.topic === observed.topic && e.code === 'CONSTRAINT_VIOLATION') expiredAt.add(`${e.partition}:${e.offset}`)
    }
  }
  const stats: CheckResult['stats'] = {
    records: observed.records.length,
    invalid: 0,
    orders: 0,
    ordersOnAnotherPartition: 0,
    ordersPending: 0,
    equalTimestampKeys: 0,
    redeliveries: 0,
    conflicts: 0,
    producerEntries: 0,
    ordersDeadLettered: 0,
    ordersExpired: 0,
    copies: 0,
  }
  stats.copies = [...origins.values()].filter(origin => origin !== undefined).length

  // What must be dead-lettered, by position, with its code; everything else in the topic must be applied.
  const mustDlq = new Map<string, string>()
  const valid: Located[] = []
  for (const record of observed.records) {
    const size = (record.key?.length ?? 0) + (record.value?.length ?? 0)
    const c =
      produced.recordMaxBytes !== undefined && size > produced.recordMaxBytes
        ? { code: 'RECORD_TOO_LARGE', why: `${size} bytes` }
        : classify(record.value, Number(record.timestamp))
    if ('code' in c) {
      mustDlq.set(pos(record), c.code)
      stats.invalid++
    } else valid.push({ record, event: c.event })
  }

  // Every produced record is in the topic.
  const ids = new Set(valid.map(v => v.event.eventId))
  for (const eventId of produced.eventIds ?? []) {
    if (!ids.has(eventId)) fail('lost', `acknowledged ${eventId}: not in the topic`)
  }
  {
    const inTopic = new Map<string, number>()
    const sig = (key: string | Buffer | null | undefined, value: string | Buffer | null) =>
      `${key === null || key === undefined ? '' : Buffer.from(key).toString('base64')}/${value === null ? '' : Buffer.from(value).toString('base64')}`
    for (const r of observed.records) inTopic.set(sig(r.key, r.value), (inTopic.get(sig(r.key, r.value)) ?? 0) + 1)
    for (const r of produced.records ?? []) {
      const s = sig(r.key, r.value)
      const n = inTopic.get(s) ?? 0
      if (n === 0) fail('lost', `produced record key ${String(r.key)}: not in the topic`)
      else inTopic.set(s, n - 1)
    }
  }

  const byType = (type: ValidEvent['type']) => valid.filter(v => v.event.type === type)
  const users = byType('UserCreated')
  const storedUsers = new Set(users.map(u => u.event.data['userId'] as string))
  const userPartition = new Map(users.map(u => [u.event.data['userId'] as string, u.record.partition]))

  // State events: per key, the acceptable winners are the greatest (timestamp, offset) record of each partition
  // the key was seen on among those with the greatest timestamp (one partition per key in every workload here;
  // a record written with a foreign key to another partition has no defined position relative to it).
  const stateCheck = (
    table: 'users' | 'orders' | 'payments',
    keyField: string,
    rowKey: string,
    records: Located[],
    matches: (row: Row, e: ValidEvent) => boolean,
  ) => {
    const groups = new Map<string, Located[]>()
    for (const r of records) {
      const key = r.event.data[keyField] as string
      const g = groups.get(key) ?? []
      g.push(r)
      groups.set(key, g)
    }
    const rows = new Map(observed.sql[table].map(r => [String(r[rowKey]), r]))
    for (const [key, group] of groups) {
      const maxTs = Math.max(...group.map(g => g.event.ts))
      const top = group.filter(g => g.event.ts === maxTs)
      if (top.length > 1) stats.equalTimestampKeys++
      const winners = top.filter(g => !top.some(o => later(o.record, g.record)))
      const row = rows.get(key)
      rows.delete(key)
      if (row === undefined)
        fail(
          'lost',
          `${table} ${key}: no row (winner ${winners[0]?.event.eventId} at ${pos(winners[0]?.record as TopicRecord)})`,
        )
      else if (!winners.some(w => matches(row, w.event))) {
        const w = winners[0] as Located
        fail(
          'orderViolations',
          `${table} ${key}: row has event_id ${row['event_id']}, expected ${w.event.eventId} at ${pos(w.record)} ${JSON.stringify(w.event.data)}; row ${JSON.stringify(row)}`,
        )
      }
    }
    for (const [key, row] of rows)
      fail('appliedTwice', `${table} ${key}: row with no record behind it (event_id ${row['event_id']})`)
  }

  stateCheck(
    'users',
    'userId',
    'user_id',
    users,
    (row, e) =>
      row['event_id'] === e.eventId &&
      row['name'] === e.data['name'] &&
      row['email'] === e.data['email'] &&
      ms(row['created_at']) === dateMs(e.data['createdAt']),
  )

  const orders = byType('OrderPlaced')
  stats.orders = orders.length
  const placeable: Located[] = []
  const waiting: Located[] = []
  for (const o of orders) {
    const user = o.event.data['userId'] as string
    if (userPartition.has(user) && userPartition.get(user) !== o.record.partition) stats.ordersOnAnotherPartition++
    if (expiredAt.has(pos(o.record))) {
      // Dead-lettered after PENDING_MAX_AGE: it must be in the DLQ once, and is not applied.
      stats.ordersExpired++
      mustDlq.set(pos(o.record), 'CONSTRAINT_VIOLATION')
      continue
    }
    ;(storedUsers.has(user) ? placeable : waiting).push(o)
  }
  stats.ordersPending = waiting.length
  const orderAt = new Set(orders.map(o => pos(o.record)))
  stateCheck(
    'orders',
    'orderId',
    'order_id',
    placeable,
    (row, e) =>
      row['event_id'] === e.eventId &&
      row['user_id'] === e.data['userId'] &&
      num(row['total']) === e.data['total'] &&
      row['status'] === (e.data['status'] ?? 'placed') &&
      ms(row['created_at']) === dateMs(e.data['createdAt']),
  )

  // Orders whose user is never stored wait in pending_events, each record on its own (found by its source
  // position or eventId), whatever the other records of its order do.
  const pendingRows = observed.sql.pending ?? []
  const pendingAt = new Set(pendingRows.map(r => `${r['source_partition']}:${r['source_offset']}`))
  const pendingIds = new Set(pendingRows.map(r => String(r['event_id'])))
  const waitingAt = new Set(waiting.map(w => pos(w.record)))
  for (const w of waiting) {
    if (!pendingAt.has(pos(w.record)) && !pendingIds.has(w.event.eventId)) {
      fail(
        'lost',
        `order ${w.event.data['orderId']} (user ${w.event.data['userId']} never stored) at ${pos(w.record)}: neither in orders nor in pending_events${observed.sql.pending === null ? ' (no pending_events table)' : ''}`,
      )
    }
  }
  const waitingIds = new Set(waiting.map(w => w.event.eventId))
  for (const r of pendingRows) {
    const at = `${r['source_partition']}:${r['source_offset']}`
    if (!waitingAt.has(at) && !waitingIds.has(String(r['event_id']))) {
      fail(
        'appliedTwice',
        `pending_events row at ${at} (event ${r['event_id']}): still pending though its parent is stored, or no such record`,
      )
    }
  }

  stateCheck(
    'payments',
    'orderId',
    'order_id',
    byType('PaymentSettled'),
    (row, e) =>
      row['event_id'] === e.eventId &&
      row['status'] === e.data['status'] &&
      num(row['amount']) === e.data['amount'] &&
      ms(row['settled_at']) === dateMs(e.data['settledAt']),
  )

  // Deltas: the first record of each eventId applies; identical later records are no-ops, different ones conflict.
  const deltaGroups = new Map<string, Located[]>()
  for (const d of byType('InventoryAdjusted')) {
    const g = deltaGroups.get(d.event.eventId) ?? []
    g.push(d)
    deltaGroups.set(d.event.eventId, g)
  }
  const ledger = new Map(observed.sql.ledger.map(r => [String(r['event_id']), r]))
  const same = (a: ValidEvent, b: ValidEvent) =>
    a.data['sku'] === b.data['sku'] &&
    a.data['delta'] === b.data['delta'] &&
    (a.data['reason'] ?? null) === (b.data['reason'] ?? null) &&
    dateMs(a.data['adjustedAt']) === dateMs(b.data['adjustedAt'])
  const expectedSum = new Map<string, number>()
  for (const [eventId, group] of deltaGroups) {
    group.sort((a, b) => a.record.partition - b.record.partition || Number(a.record.offset - b.record.offset))
    // First in the log, as the records were applied: by the record's own offset, not a copy's place (a copy of
    // an older record still comes after what the log already applied). Across partitions there is no order, so
    // the one the ledger holds is accepted.
    const firsts = group.filter(
      g => !group.some(o => o.record.partition === g.record.partition && o.record.offset < g.record.offset),
    )
    const row = ledger.get(eventId)
    const applied =
      firsts.find(
        f => row !== undefined && row['sku'] === f.event.data['sku'] && Number(row['delta']) === f.event.data['delta'],
      ) ?? (firsts[0] as Located)
    for (const d of group) {
      if (d === applied) continue
      if (same(d.event, applied.event)) stats.redeliveries++
      else {
        stats.conflicts++
        mustDlq.set(pos(d.record), 'EVENT_ID_CONFLICT')
      }
    }
    const sku = applied.event.data['sku'] as string
    expectedSum.set(sku, (expectedSum.get(sku) ?? 0) + (applied.event.data['delta'] as number))
    if (row === undefined)
      fail(
        'lost',
        `delta ${eventId} (${sku} ${applied.event.data['delta']}) at ${pos(applied.record)}: not in the ledger`,
      )
    else if (row['sku'] !== sku || Number(row['delta']) !== applied.event.data['delta']) {
      fail(
        'appliedTwice',
        `ledger ${eventId}: ${row['sku']} ${row['delta']}, expected the first record's ${sku} ${applied.event.data['delta']}`,
      )
    }
    ledger.delete(eventId)
  }
  for (const [eventId, row] of ledger)
    fail('appliedTwice', `ledger ${eventId} (${row['sku']} ${row['delta']}): not in the workload`)
  const ledgerSum = new Map<string, number>()
  for (const r of observed.sql.ledger)
    ledgerSum.set(String(r['sku']), (ledgerSum.get(String(r['sku'])) ?? 0) + Number(r['delta']))
  for (const row of observed.sql.inventory) {
    const sku = String(row['sku'])
    const quantity = Number(row['quantity'])
    if (!expectedSum.has(sku)) fail('appliedTwice', `inventory ${sku}: row with no delta behind it`)
    else if (quantity !== (ledgerSum.get(sku) ?? 0)) {
      fail(
        'appliedTwice',
        `inventory ${sku}: quantity ${quantity}, sum of its ledger ${ledgerSum.get(sku) ?? 0} (expected ${expectedSum.get(sku)})`,
      )
    }
  }

  // The DLQ: exactly one entry per record that must be dead-lettered, none for any other record.
  const inTopic = new Set(observed.records.map(pos))
  const seen = new Map<string, DlqEntry>()
  for (const entry of observed.dlq) {
    if (entry.source === 'producer' && entry.topic === null) {
      stats.producerEntries++
      continue
    }
    const at = `${entry.partition}:${entry.offset}`
    if (entry.topic !== observed.topic || !inTopic.has(at)) {
      fail('mistaken', `DLQ entry for no record of the topic: ${entry.raw.slice(0, 300)}`)
      continue
    }
    if (seen.has(at)) {
      fail('dlqTwice', `record ${at} dead-lettered again (${entry.code})`)
      continue
    }
    seen.set(at, entry)
    const code = mustDlq.get(at)
    if (orderAt.has(at)) stats.ordersDeadLettered++
    if (code === undefined)
      fail(
        'mistaken',
        `record ${at} is valid and must be applied, dead-lettered ${entry.code}: ${entry.raw.slice(0, 300)}`,
      )
  }
  for (const [at, code] of mustDlq) {
    const entry = seen.get(at)
    if (entry === undefined) {
      if (!redriven.has(at)) fail('missingFromDlq', `record ${at} must be dead-lettered ${code}: no DLQ entry`)
    } else if (entry.code !== code)
      fail('missingFromDlq', `record ${at} must be dead-lettered ${code}: entry says ${entry.code}`)
  }
  return { counts, examples, stats }
}

/** Reads every table the checker looks at, from PostgreSQL or from a SQLite file (`sqlite:<path>`). */
interface Tables {
  all(table: string): Promise<Row[]>
  /** Pending orders whose user is stored now: the consumer's sweep applies them within a second. */
  releasable(): Promise<number>
  hasPending(): Promise<boolean>
  close(): Promise<void>
}

async function openTables(databaseUrl: string): Promise<Tables> {
  if (databaseUrl.startsWith('sqlite:')) {
    const db = new DatabaseSync(databaseUrl.slice('sqlite:'.length), { readOnly: true })
    const get = (text: string) => db.prepare(text).all() as Row[]
    return {
      all: async table => get(`SELECT * FROM ${table}`),
      releasable: async () =>
        Number(
          get(
            `SELECT count(*) AS n FROM pending_events p JOIN users u ON u.user_id = p.parent_key WHERE p.parent_table = 'users'`,
          )[0]?.['n'],
        ),
      hasPending: async () => get(`SELECT name FROM sqlite_master WHERE name = 'pending_events'`).length > 0,
      close: async () => db.close(),
    }
  }
  const db = new pg.Client({ connectionString: databaseUrl })
  db.on('error', () => {})
  await db.connect()
  return {
    all: async table => (await db.query(`SELECT * FROM ${table}`)).rows as Row[],
    releasable: async () =>
      (
        await db.query(
          `SELECT count(*)::int AS n FROM pending_events p JOIN users u ON u.user_id = p.parent_key WHERE p.parent_table = 'users'`,
        )
      ).rows[0]?.n,
    hasPending: async () =>
      (await db.query(`SELECT to_regclass('pending_events') IS NOT NULL AS ok`)).rows[0]?.ok === true,
    close: () => db.end(),
  }
}

/** The outcome of a test: the topic read back, every table of the database, every DLQ entry. */
export async function observe(options: {
  topic: string
  /** postgres://… or sqlite:<path> */
  databaseUrl: string
  dlqKey: string
  brokers?: readonly string[]
}): Promise<Observed> {
  const records = await readTopic(options.topic, { brokers: options.brokers })
  const db = await openTables(options.databaseUrl)
  try {
    const exists = await db.hasPending()
    // A pending event whose parent another transaction stored at the same moment is applied by the consumer's
    // sweep (every second). The outcome is the state once that has happened: wait for it, bounded; what is still
    // pending after that is reported by check() like any other mismatch.
    for (let i = 0; exists && i < 50 && (await db.releasable()) > 0; i++) {
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    const sql: SqlState = {
      users: await db.all('users'),
      orders: await db.all('orders'),
      payments: await db.all('payments'),
      inventory: await db.all('inventory'),
      ledger: await db.all('inventory_ledger'),
      pending: exists ? await db.all('pending_events') : null,
    }
    const redis = new Redis({ ...redisHostPort(), password: testServices.redisPassword || undefined })
    try {
      const dlq = (await redis.lrange(options.dlqKey, 0, -1)).map(parseEntry)
      return { topic: options.topic, records, sql, dlq }
    } finally {
      redis.disconnect()
    }
  } finally {
    await db.close()
  }
}

function parseEntry(raw: string): DlqEntry {
  try {
    const e = JSON.parse(raw) as Record<string, unknown>
    const error = (e['error'] ?? {}) as Record<string, unknown>
    return {
      topic: typeof e['topic'] === 'string' ? e['topic'] : null,
      partition: typeof e['partition'] === 'number' ? e['partition'] : null,
      offset: e['offset'] === null || e['offset'] === undefined ? null : String(e['offset']),
      code: typeof error['code'] === 'string' ? error['code'] : null,
      source: typeof e['source'] === 'string' ? e['source'] : null,
      raw,
    }
  } catch {
    return { topic: null, partition: null, offset: null, code: null, source: null, raw }
  }
}

/** The report line: every figure computed by check(). */
export function reportLine(name: string, faults: number, survived: number, r: CheckResult): string {
  const c = r.counts
  return `${name}: faults ${survived}/${faults} survived, events lost ${c.lost}, applied twice ${c.appliedTwice}, dead-lettered by mistake ${c.mistaken}, dead-lettered twice ${c.dlqTwice}, order violations ${c.orderViolations}, missing from the DLQ ${c.missingFromDlq}`
}

/** Prints the line and what the workload exercised; fails with up to 10 examples per mismatch unless all zero. */
export function assertClean(name: string, faults: number, survived: number, r: CheckResult): void {
  const line = reportLine(name, faults, survived, r)
  console.log(line)
  console.log(`${name}: workload ${JSON.stringify(r.stats)}`)
  const problems = classes
    .filter(c => r.counts[c] > 0)
    .map(c => `${c} (${r.counts[c]}):\n  ${r.examples[c].join('\n  ')}`)
  assert.ok(survived === faults && problems.length === 0, `${line}\n${problems.join('\n')}`)
}

/** observe() then check(): the one call a fault test makes at its end. */
export async function checkOutcome(
  produced: Produced,
  where: { topic: string; databaseUrl: string; dlqKey: string; brokers?: readonly string[] },
): Promise<CheckResult> {
  return check(produced, await observe(where))
}
