// `npm run bench:pending`: what one tick of the pending sweep costs when the table holds many pending orders
// (1,000,000 by default) and none has expired or found its user, on PostgreSQL and SQLite. See
// docs/performance.md, "The pending sweep at a million rows".
//
//   npm run bench:pending                       1,000,000 pending rows, 20 ticks per engine
//   options: --rows N  --ticks N  --only postgres|sqlite
//
// The rows are written straight into pending_events (orders whose users never come, spread over the last hour);
// the ticks are the consumer's own sweeper (createPendingSweeper) over the pipeline's store, so the figure is the
// sweep as a member runs it every second: resolve, expiry claim, counts and the event_log prune.
import { DatabaseSync } from 'node:sqlite'
import { parseArgs } from 'node:util'
import { Registry } from 'prom-client'
import { withPostgres } from '../dev/resources.ts'
import { createPendingSweeper } from '../src/consumer/pending.ts'
import type { DeadLetterQueue } from '../src/dlq/index.ts'
import { consumerMetrics, createLogger } from '../src/observability/index.ts'
import { createStore, type Store } from '../src/store/index.ts'
import { createPostgresDatabase, dropPostgresDatabases, sqliteFile, vacuumAnalyze } from './databases.ts'
import { median } from './stats.ts'

const { values } = parseArgs({
  options: { rows: { type: 'string' }, ticks: { type: 'string' }, only: { type: 'string' } },
})
const rows = Number(values.rows ?? 1_000_000)
const ticks = Number(values.ticks ?? 20)
const engines = (values.only ?? 'postgres,sqlite').split(',').map(s => s.trim())

const payload = JSON.stringify({
  eventId: 'evt-000000000',
  type: 'OrderPlaced',
  timestamp: '2026-01-01T00:00:00.000Z',
  payload: { orderId: 'order-000000000', userId: 'user-000000000', total: 42.5, status: 'PLACED' },
})

/** 1,000,000 orphans over the last hour, 12 partitions, and 100,000 users none of them waits for. */
const postgresFill = [
  `INSERT INTO users (user_id, name, email, created_at, event_id, event_ts, source_topic, source_partition,
     source_offset)
   SELECT 'stored-' || g, 'n', 'e', now(), 'u-' || g, now(), 'bench', 0, g FROM generate_series(1, ${rows / 10}) g`,
  `INSERT INTO pending_events (source_topic, source_partition, source_offset, event_id, event_type, event_key,
     parent_table, parent_key, constraint_name, event_ts, payload, pending_since)
   SELECT 'bench', g % 12, g, 'evt-' || g, 'OrderPlaced', 'order-' || g, 'users', 'missing-' || g,
     'FK_Orders_Users', now(), $1, now() - (g % 3600) * interval '1 second'
   FROM generate_series(1, ${rows}) g`,
]

const sqliteFill = [
  `WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ${rows / 10})
   INSERT INTO users (user_id, name, email, created_at, event_id, event_ts, source_topic, source_partition,
     source_offset)
   SELECT 'stored-' || n, 'n', 'e', '2026-01-01T00:00:00.000Z', 'u-' || n, '2026-01-01T00:00:00.000Z', 'bench', 0, n
   FROM g`,
  `WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ${rows})
   INSERT INTO pending_events (source_topic, source_partition, source_offset, event_id, event_type, event_key,
     parent_table, parent_key, constraint_name, event_ts, payload, pending_since)
   SELECT 'bench', n % 12, n, 'evt-' || n, 'OrderPlaced', 'order-' || n, 'users', 'missing-' || n,
     'FK_Orders_Users', '2026-01-01T00:00:00.000Z', ?,
     strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || (n % 3600) || ' seconds')
   FROM g`,
]

const noDlq = {
  push: async () => {},
} as unknown as DeadLetterQueue

interface Timings {
  readonly tick: number
  readonly resolve: number
  readonly claim: number
  readonly stats: number
  readonly count: number
  readonly capped: boolean
}

/** Which part of a tick a store call belongs to: every resolve call, the expiry claim, the counts. */
function keyOf(name: string): 'resolve' | 'claim' | 'stats' | undefined {
  if (name.startsWith('resolvePending')) return 'resolve'
  if (name === 'claimExpired') return 'claim'
  return name === 'pendingStats' ? 'stats' : undefined
}

/** Times `ticks` sweeper ticks, and each store call a tick makes, over a store wrapped to clock them. */
async function measure(store: Store): Promise<Timings> {
  const spent = { resolve: 0, claim: 0, stats: 0 }
  const clocked = (key: keyof typeof spent, call: () => Promise<unknown>) => {
    const start = performance.now()
    return call().finally(() => {
      spent[key] += performance.now() - start
    })
  }
  const timed = new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver)
      if (typeof value !== 'function') return value
      const key = keyOf(String(name))
      if (key === undefined) return value.bind(target)
      return (...args: unknown[]) => clocked(key, () => value.apply(target, args))
    },
  })
  const sweeper = createPendingSweeper({
    store: timed,
    dlq: noDlq,
    logger: createLogger('warn', 'bench'),
    metrics: consumerMetrics(new Registry()),
    maxAgeMs: 24 * 3600 * 1000,
  })
  await sweeper.tick() // the first tick warms caches and prepared statements
  const tick: number[] = []
  const resolve: number[] = []
  const claim: number[] = []
  const stats: number[] = []
  let count = 0
  let capped = false
  for (let i = 0; i < ticks; i++) {
    spent.resolve = spent.claim = spent.stats = 0
    const start = performance.now()
    const result = await sweeper.tick()
    tick.push(performance.now() - start)
    resolve.push(spent.resolve)
    claim.push(spent.claim)
    stats.push(spent.stats)
    count = result?.stats.count ?? -1
    capped = result?.stats.capped ?? false
  }
  return { tick: median(tick), resolve: median(resolve), claim: median(claim), stats: median(stats), count, capped }
}

async function postgres(): Promise<Timings> {
  const db = await createPostgresDatabase('ep_bench_pending')
  try {
    const store = await createStore({ engine: 'postgres', url: db.url })
    try {
      await store.migrate()
      await withPostgres(db.url, async c => {
        for (const statement of postgresFill) await c.query(statement, statement.includes('$1') ? [payload] : [])
      })
      await vacuumAnalyze(db.url)
      return await measure(store)
    } finally {
      await store.close()
    }
  } finally {
    await dropPostgresDatabases([db.name])
  }
}

async function sqlite(): Promise<Timings> {
  const file = sqliteFile()
  try {
    const store = await createStore({ engine: 'sqlite', path: file.path })
    try {
      await store.migrate()
      const db = new DatabaseSync(file.path)
      try {
        for (const statement of sqliteFill) {
          if (statement.includes('?')) db.prepare(statement).run(payload)
          else db.exec(statement)
        }
        db.exec('ANALYZE')
      } finally {
        db.close()
      }
      return await measure(store)
    } finally {
      await store.close()
    }
  } finally {
    file.remove()
  }
}

const ms = (v: number) => v.toFixed(v < 10 ? 2 : 1).padStart(9)
console.log(`pending sweep, ${rows.toLocaleString()} pending rows, median of ${ticks} ticks (ms)`)
console.log(`engine       tick   resolve     claim     stats   counted`)
for (const engine of engines) {
  const t = engine === 'postgres' ? await postgres() : await sqlite()
  console.log(
    `${engine.padEnd(8)}${ms(t.tick)} ${ms(t.resolve)} ${ms(t.claim)} ${ms(t.stats)}   ${t.capped ? '≥ ' : ''}${t.count.toLocaleString()}`,
  )
}
