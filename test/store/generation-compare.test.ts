// The pure parts of generations: name rules, canonical values, the page query's text per dialect, and the paged walk
// (completeRows) checked against a direct comparison over generated key sets, with pages small enough that every
// boundary case (one side exhausted, keys on one side only at a page's end) comes up.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  compareTable,
  completeRows,
  type PageDialect,
  type PageReader,
  type PageRow,
  pageQuery,
} from '../../src/store/generation-compare.ts'
import {
  checkCompareLimit,
  checkGenerationName,
  GenerationError,
  generationTables,
  oldGeneration,
} from '../../src/store/generations.ts'
import { moveStatements } from '../../src/store/postgres/generations.ts'
import { dropOldStatements, rollbackStatements, swapStatements } from '../../src/store/sqlite/generations.ts'
import { type CanonicalTable, canonicalTables, canonicalValue } from '../../src/store/tables.ts'

const refused = (fn: () => unknown, reason: GenerationError['reason']) =>
  assert.throws(fn, (e: unknown) => e instanceof GenerationError && e.reason === reason)

describe('generation names', () => {
  it('takes lower-case identifiers and refuses the rest', () => {
    for (const good of ['rebuild_3', 'a', 'x1', `a${'b'.repeat(39)}`, 'old_x', 'publicity']) {
      assert.equal(checkGenerationName(good), good)
    }
    const bad: unknown[] = ['', 'A', 'Rebuild', '1st', '_x', 'a-b', 'a b', 'a"b', "a'b", 'a;b', 'é', 'a\u0000']
    bad.push(`a${'b'.repeat(40)}`, 'x_old', 'live', 'public', 'information_schema', 'pg_temp', 42, null, undefined)
    for (const name of bad) refused(() => checkGenerationName(name), 'invalid-name')
    assert.equal(oldGeneration('rebuild_3'), 'rebuild_3_old')
  })

  it('bounds compare limits', () => {
    assert.equal(checkCompareLimit(0), 0)
    assert.equal(checkCompareLimit(1000), 1000)
    for (const limit of [-1, 1001, 1.5, Number.NaN, '10']) refused(() => checkCompareLimit(limit), 'invalid-argument')
  })
})

describe('canonical values', () => {
  it('reads the same whatever the engine returned', () => {
    assert.equal(canonicalValue('money', 123.4), '123.40')
    assert.equal(canonicalValue('money', '123.40'), '123.40')
    assert.equal(canonicalValue('money', '5'), '5.00')
    assert.equal(canonicalValue('int', 7n), '7')
    assert.equal(canonicalValue('int', '9007199254740993'), '9007199254740993')
    assert.equal(canonicalValue('int', 3), '3')
    assert.equal(canonicalValue('time', new Date('2025-01-11T12:00:00Z')), '2025-01-11T12:00:00.000Z')
    assert.equal(canonicalValue('time', '2025-01-11T12:00:00.000Z'), '2025-01-11T12:00:00.000Z')
    assert.equal(canonicalValue('text', null), null)
    assert.equal(canonicalValue('int', undefined), null)
  })

  it('leaves wall-clock columns out of every table, and compares every projection table', () => {
    assert.deepEqual(
      canonicalTables.map(t => t.table),
      ['users', 'orders', 'payments', 'inventory', 'inventory_ledger', 'pending_events'],
    )
    for (const table of canonicalTables) {
      const columns = table.columns.map(([c]) => c)
      for (const clock of ['updated_at', 'applied_at', 'pending_since', 'logged_at']) {
        assert.ok(!columns.includes(clock), `${table.table}.${clock}`)
      }
      assert.deepEqual(columns.slice(0, table.keys.length), table.keys, `${table.table}: keys first`)
    }
  })
})

const postgres: PageDialect = {
  quote: s => `"${s}"`,
  param: i => `$${i}`,
  table: (side, table) => `"${side === 'live' ? 'public' : 'gen'}"."${table}"`,
  rowCap: 'limit',
  rowValues: true,
}
const mssql: PageDialect = {
  quote: s => `[${s}]`,
  param: i => `@${i}`,
  table: (side, table) => `${side === 'live' ? '[dbo]' : '[gen]'}.[${table}]`,
  rowCap: 'top',
  rowValues: false,
}
const spec = (table: string) => canonicalTables.find(t => t.table === table)!

describe('page queries', () => {
  it('reads both sides after a key, joined and sorted by the server', () => {
    const text = pageQuery(postgres, spec('inventory'), 3, false)
    assert.equal(
      text,
      'SELECT l."sku" AS "l_sku", l."quantity" AS "l_quantity", l."last_adjusted_at" AS "l_last_adjusted_at", ' +
        's."sku" AS "s_sku", s."quantity" AS "s_quantity", s."last_adjusted_at" AS "s_last_adjusted_at" ' +
        'FROM (SELECT "sku", "quantity", "last_adjusted_at" FROM "public"."inventory" WHERE "sku" > $1 ORDER BY "sku" LIMIT 3) l ' +
        'FULL OUTER JOIN (SELECT "sku", "quantity", "last_adjusted_at" FROM "gen"."inventory" WHERE "sku" > $1 ORDER BY "sku" LIMIT 3) s ' +
        'ON l."sku" = s."sku" ORDER BY COALESCE(l."sku", s."sku")',
    )
    assert.doesNotMatch(pageQuery(postgres, spec('inventory'), 3, true), /WHERE/)
  })

  it('spells a composite key as a row value, or with OR where the engine has none', () => {
    const pg = pageQuery(postgres, spec('pending_events'), 10, false)
    assert.match(pg, /WHERE \("source_topic", "source_partition", "source_offset"\) > \(\$1, \$2, \$3\)/)
    const ms = pageQuery(mssql, spec('pending_events'), 10, false)
    assert.match(
      ms,
      /SELECT TOP \(10\) .* FROM \[dbo\]\.\[pending_events\] WHERE \[source_topic\] > @1 OR \(\[source_topic\] = @1 AND \(\[source_partition\] > @2 OR \(\[source_partition\] = @2 AND \(\[source_offset\] > @3\)\)\)\) ORDER BY/,
    )
    assert.doesNotMatch(ms, /LIMIT/)
    assert.match(
      ms,
      /ON l\.\[source_topic\] = s\.\[source_topic\] AND l\.\[source_partition\] = s\.\[source_partition\]/,
    )
  })
})

describe('completeRows', () => {
  const row = (live: boolean, shadow: boolean): PageRow => ({ live: live ? {} : null, shadow: shadow ? {} : null })

  it('takes every row when neither side filled its page', () => {
    assert.deepEqual(completeRows([row(true, true), row(false, true)], 3), { complete: 2, done: true })
    assert.deepEqual(completeRows([], 3), { complete: 0, done: true })
  })

  it('stops at the earlier last key of the full sides', () => {
    // live: a b c (full), shadow: a c d (full): rows a b c d; complete through c.
    const rows = [row(true, true), row(true, false), row(true, true), row(false, true)]
    assert.deepEqual(completeRows(rows, 3), { complete: 3, done: false })
    // live full at b, shadow short: through b only; later shadow keys may pair with live keys beyond b.
    assert.deepEqual(completeRows([row(true, true), row(true, false), row(false, true)], 2), {
      complete: 2,
      done: false,
    })
  })
})

/**
 * The pages a server would answer for two sorted key lists: what pageQuery asks of it, done by hand. Keys are
 * short strings whose JavaScript order is the order a "C" collation gives.
 */
function memoryReader(live: Map<string, string>, shadow: Map<string, string>): PageReader {
  const sorted = (m: Map<string, string>) => [...m.keys()].sort()
  const [l, s] = [sorted(live), sorted(shadow)]
  return async (text, params) => {
    const size = Number(/LIMIT (\d+)/.exec(text)?.[1])
    const after = params[0] as string | undefined
    const window = (keys: string[]) => keys.filter(k => after === undefined || k > after).slice(0, size)
    const [lw, sw] = [window(l), window(s)]
    const keys = [...new Set([...lw, ...sw])].sort()
    return keys.map(k => ({
      l_sku: lw.includes(k) ? k : null,
      l_quantity: lw.includes(k) ? live.get(k) : null,
      l_last_adjusted_at: null,
      s_sku: sw.includes(k) ? k : null,
      s_quantity: sw.includes(k) ? shadow.get(k) : null,
      s_last_adjusted_at: null,
    }))
  }
}

describe('compareTable', () => {
  const inventory: CanonicalTable = spec('inventory')

  it('finds exactly the differing keys, in key order, whatever the page size', async () => {
    const entries = fc.array(fc.tuple(fc.stringMatching(/^[a-e]{1,3}$/), fc.integer({ min: 0, max: 3 })), {
      maxLength: 40,
    })
    await fc.assert(
      fc.asyncProperty(entries, entries, fc.integer({ min: 1, max: 7 }), async (a, b, pageSize) => {
        const live = new Map(a.map(([k, v]) => [k, String(v)]))
        const shadow = new Map(b.map(([k, v]) => [k, String(v)]))
        const check = await compareTable(postgres, inventory, memoryReader(live, shadow), 1000, { pageSize })
        const keys = [...new Set([...live.keys(), ...shadow.keys()])].sort()
        const expected = keys.filter(k => live.get(k) !== shadow.get(k))
        assert.deepEqual(
          check.differing.map(d => d.key),
          expected,
        )
        assert.equal(check.liveRows, live.size)
        assert.equal(check.shadowRows, shadow.size)
        assert.equal(check.liveChecksum === check.shadowChecksum, expected.length === 0)
        for (const d of check.differing) {
          assert.equal(d.live?.['quantity'] ?? null, live.get(d.key) ?? null)
          assert.equal(d.shadow?.['quantity'] ?? null, shadow.get(d.key) ?? null)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('stops listing at the limit but counts every row', async () => {
    const live = new Map(['a', 'b', 'c', 'd'].map(k => [k, '1']))
    const check = await compareTable(postgres, inventory, memoryReader(live, new Map()), 2, { pageSize: 1 })
    assert.deepEqual(
      check.differing.map(d => d.key),
      ['a', 'b'],
    )
    assert.deepEqual([check.liveRows, check.shadowRows], [4, 0])
  })
})

describe('swap statements', () => {
  it('PostgreSQL: one lock of every table in a fixed order, then the moves', () => {
    const statements = moveStatements('public', 'next_old', 'next')
    assert.match(statements[0]!, /^LOCK TABLE "public"\."users", "public"\."event_log", .* IN ACCESS EXCLUSIVE MODE$/)
    assert.equal(statements.filter(s => s.startsWith('ALTER TABLE "public".')).length, generationTables.length + 1)
    assert.ok(statements.includes('ALTER TABLE "public"."users" SET SCHEMA "next_old"'))
    assert.ok(statements.includes('ALTER TABLE "next"."schema_migrations" SET SCHEMA "public"'))
    // Every live table leaves before any of the generation's arrives.
    const lastOut = statements.findLastIndex(s => s.includes('SET SCHEMA "next_old"'))
    const firstIn = statements.findIndex(s => s.includes('SET SCHEMA "public"'))
    assert.ok(lastOut < firstIn)
  })

  it('SQLite: keep the live rows, empty children first, fill parents first', () => {
    const columns = new Map(generationTables.map(t => [t, ['a', 'b']]))
    const statements = swapStatements('next', columns, '2026-01-01T00:00:00.000Z')
    assert.ok(statements.includes('CREATE TABLE main."next_old__users" AS SELECT "a", "b" FROM main."users"'))
    const deletes = statements.filter(s => s.startsWith('DELETE'))
    assert.deepEqual(
      deletes.map(s => s.slice('DELETE FROM main.'.length)),
      [...generationTables].reverse().map(t => `"${t}"`),
    )
    assert.ok(
      statements.indexOf('DELETE FROM main."users"') <
        statements.indexOf('INSERT INTO main."users" ("a", "b") SELECT "a", "b" FROM gen."users"'),
    )
    assert.ok(
      statements.indexOf('INSERT INTO main."users" ("a", "b") SELECT "a", "b" FROM gen."users"') <
        statements.indexOf('INSERT INTO main."orders" ("a", "b") SELECT "a", "b" FROM gen."orders"'),
    )
    const back = rollbackStatements('next', columns)
    assert.ok(back.includes('INSERT INTO main."orders" ("a", "b") SELECT "a", "b" FROM main."next_old__orders"'))
    assert.deepEqual(back.slice(-dropOldStatements('next').length), dropOldStatements('next'))
  })
})
