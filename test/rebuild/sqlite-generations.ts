// A small Generations over real SQLite files, for the rebuild's tests: generation `name` of the live file P is the
// file `P.name` (made by the store's own migrations), opened with createStore like any SQLite store. Swap and
// rollback copy rows inside one transaction on the live file (ATTACH), so the live store's connection sees the old
// rows until the commit and the new ones after; compare reads both sides whole (test sizes only).
import { createHash } from 'node:crypto'
import { existsSync, rmSync } from 'node:fs'
import { DatabaseSync } from 'node:sqlite'
import type { GenerationInfo, Generations, RowDiff, TableCheck } from '../../src/rebuild/index.ts'
import { createStore, type Store } from '../../src/store/index.ts'

/** Parents before children: copied in this order, deleted in the reverse. */
const tables = [
  'users',
  'event_log',
  'pending_events',
  'orders',
  'payments',
  'inventory_ledger',
  'inventory',
  'applied_offsets',
] as const

/** The tables compared, with their keys. */
const keys: Record<string, readonly string[]> = {
  users: ['user_id'],
  orders: ['order_id'],
  payments: ['order_id'],
  inventory: ['sku'],
  inventory_ledger: ['event_id'],
  pending_events: ['source_topic', 'source_partition', 'source_offset'],
}

/** Columns written from the wall clock, not from the log: they differ between generations by nature. */
const wallClock = new Set(['updated_at', 'applied_at', 'pending_since', 'logged_at'])

const remove = (path: string) => {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true })
}

export class SqliteTestGenerations implements Generations {
  readonly #path: string

  constructor(path: string) {
    this.#path = path
  }

  fileOf(name: string): string {
    if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`bad generation name ${name}`)
    return `${this.#path}.${name}`
  }

  async #migrated(path: string): Promise<void> {
    const store = await createStore({ engine: 'sqlite', path })
    try {
      await store.migrate()
    } finally {
      await store.close()
    }
  }

  async create(name: string): Promise<void> {
    if (existsSync(this.fileOf(name))) throw new Error(`generation ${name} exists`)
    await this.#migrated(this.fileOf(name))
  }

  async open(name: string): Promise<Store> {
    if (!existsSync(this.fileOf(name))) throw new Error(`no generation ${name}`)
    return createStore({ engine: 'sqlite', path: this.fileOf(name) })
  }

  /** Runs `work` in one write transaction on the live file, with the files of `attached` attached by alias. */
  #onLive(attached: Record<string, string>, work: (db: DatabaseSync) => void): void {
    const db = new DatabaseSync(this.#path)
    try {
      db.exec('PRAGMA busy_timeout = 15000; PRAGMA foreign_keys = OFF')
      for (const [alias, path] of Object.entries(attached)) db.prepare(`ATTACH DATABASE ? AS ${alias}`).run(path)
      db.exec('BEGIN IMMEDIATE')
      try {
        work(db)
        db.exec('COMMIT')
      } catch (error) {
        db.exec('ROLLBACK')
        throw error
      }
    } finally {
      db.close()
    }
  }

  /** Replaces every table of `to` with the rows of `from` (schemas: main or an alias). */
  static #copy(db: DatabaseSync, from: string, to: string): void {
    for (const table of [...tables].reverse()) db.exec(`DELETE FROM ${to}.${table}`)
    for (const table of tables) db.exec(`INSERT INTO ${to}.${table} SELECT * FROM ${from}.${table}`)
  }

  async swap(name: string): Promise<void> {
    const shadow = this.fileOf(name)
    const old = this.fileOf(`${name}_old`)
    if (!existsSync(shadow)) throw new Error(`no generation ${name}`)
    if (existsSync(old)) throw new Error(`old generation of ${name} exists`)
    await this.#migrated(old)
    this.#onLive({ s: shadow, o: old }, db => {
      SqliteTestGenerations.#copy(db, 'main', 'o')
      SqliteTestGenerations.#copy(db, 's', 'main')
    })
    remove(shadow)
  }

  async rollback(name: string): Promise<void> {
    const shadow = this.fileOf(name)
    const old = this.fileOf(`${name}_old`)
    if (!existsSync(old)) throw new Error(`no old generation of ${name}`)
    await this.#migrated(shadow)
    this.#onLive({ s: shadow, o: old }, db => {
      SqliteTestGenerations.#copy(db, 'main', 's')
      SqliteTestGenerations.#copy(db, 'o', 'main')
    })
    remove(old)
  }

  async dropOld(name: string): Promise<void> {
    remove(this.fileOf(`${name}_old`))
  }

  async drop(name: string): Promise<void> {
    remove(this.fileOf(name))
  }

  async list(): Promise<GenerationInfo[]> {
    return [{ name: 'live', role: 'live' }]
  }

  async compare(name: string, options: { limit: number }): Promise<TableCheck[]> {
    const db = new DatabaseSync(this.#path, { readOnly: true })
    try {
      db.prepare('ATTACH DATABASE ? AS s').run(this.fileOf(name))
      return Object.entries(keys).map(([table, key]) => {
        const read = (schema: string) => {
          const rows = db.prepare(`SELECT * FROM ${schema}.${table} ORDER BY ${key.join(', ')}`).all()
          return new Map(
            rows.map(row => {
              const canonical = Object.fromEntries(Object.entries(row).filter(([column]) => !wallClock.has(column)))
              return [key.map(k => String(row[k])).join('/'), canonical] as const
            }),
          )
        }
        const live = read('main')
        const shadow = read('s')
        const checksum = (rows: Map<string, Record<string, unknown>>) => {
          const hash = createHash('sha256')
          for (const [k, row] of rows) hash.update(`${k}\n${JSON.stringify(row)}\n`)
          return hash.digest('hex')
        }
        const differing: RowDiff[] = []
        for (const k of [...new Set([...live.keys(), ...shadow.keys()])].sort()) {
          const a = live.get(k) ?? null
          const b = shadow.get(k) ?? null
          if (JSON.stringify(a) !== JSON.stringify(b) && differing.length < options.limit) {
            differing.push({ key: k, live: a, shadow: b })
          }
        }
        return {
          table,
          liveRows: live.size,
          shadowRows: shadow.size,
          liveChecksum: checksum(live),
          shadowChecksum: checksum(shadow),
          differing,
        }
      })
    } finally {
      db.close()
    }
  }

  async close(): Promise<void> {}
}
