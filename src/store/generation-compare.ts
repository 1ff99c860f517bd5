// Comparing a generation with the live tables, for every engine: the SQL that reads both sides one page at a time
// in key order, the rule that says which rows of a page are complete, and the counts, checksums and differing keys.
// The database orders the keys (its collation, its numbers), never JavaScript: the two sides of a page are joined
// and sorted by the same server, so the walk needs no comparator of its own that could disagree with it.
import { createHash, type Hash } from 'node:crypto'
import { checkCompareLimit, type RowDiff, type TableCheck } from './generations.ts'
import { type CanonicalTable, canonicalRow, canonicalTables } from './tables.ts'

/** How one engine spells a page query. */
export interface PageDialect {
  quote(identifier: string): string
  /** The placeholder of the i-th parameter (1-based), usable more than once in a text. */
  param(index: number): string
  /** The qualified name of `table` on one side. */
  table(side: 'live' | 'shadow', table: string): string
  /** How a row count is capped: LIMIT after ORDER BY, or TOP (n) after SELECT (SQL Server). */
  readonly rowCap: 'limit' | 'top'
  /** `(a, b) > (x, y)` is understood (and uses the key's index); otherwise it is spelt out with OR. */
  readonly rowValues: boolean
}

/** Rows per side per page: what one page holds in memory is at most twice this many rows. */
export const comparePageSize = 1000

/** How compare pages: rows per side per page, and an observer of each page's row count (tests show the bound with it). */
export interface CompareTuning {
  readonly pageSize?: number
  readonly onPage?: (table: string, rows: number) => void
}

/** The columns of a page's rows: each compared column of either side, prefixed `l_` (live) or `s_` (shadow). */
const sideColumn = (side: 'l' | 's', column: string) => `${side}_${column}`

function keyAfter(dialect: PageDialect, keys: readonly string[]): string {
  const q = (k: string) => dialect.quote(k)
  if (dialect.rowValues && keys.length > 1) {
    return `(${keys.map(q).join(', ')}) > (${keys.map((_, i) => dialect.param(i + 1)).join(', ')})`
  }
  // a > $1 OR (a = $1 AND (b > $2 OR (b = $2 AND c > $3)))
  let text = ''
  for (let i = keys.length - 1; i >= 0; i--) {
    const greater = `${q(keys[i]!)} > ${dialect.param(i + 1)}`
    text = text === '' ? greater : `${greater} OR (${q(keys[i]!)} = ${dialect.param(i + 1)} AND (${text}))`
  }
  return text
}

/**
 * The text of one page of `table`: the first `size` rows of each side after the key given as parameters (none on
 * the first page), full-outer-joined on the key and sorted by it. The text depends only on the table, the side
 * names and whether a key is given, so an engine may prepare it once.
 */
export function pageQuery(dialect: PageDialect, spec: CanonicalTable, size: number, first: boolean): string {
  const q = (k: string) => dialect.quote(k)
  const columns = spec.columns.map(([c]) => q(c)).join(', ')
  const order = spec.keys.map(q).join(', ')
  const side = (s: 'live' | 'shadow') => {
    const where = first ? '' : ` WHERE ${keyAfter(dialect, spec.keys)}`
    return dialect.rowCap === 'top'
      ? `SELECT TOP (${size}) ${columns} FROM ${dialect.table(s, spec.table)}${where} ORDER BY ${order}`
      : `SELECT ${columns} FROM ${dialect.table(s, spec.table)}${where} ORDER BY ${order} LIMIT ${size}`
  }
  const selected = (['l', 's'] as const)
    .flatMap(s => spec.columns.map(([c]) => `${s}.${q(c)} AS ${q(sideColumn(s, c))}`))
    .join(', ')
  const on = spec.keys.map(k => `l.${q(k)} = s.${q(k)}`).join(' AND ')
  const sorted = spec.keys.map(k => `COALESCE(l.${q(k)}, s.${q(k)})`).join(', ')
  return `SELECT ${selected} FROM (${side('live')}) l FULL OUTER JOIN (${side('shadow')}) s ON ${on} ORDER BY ${sorted}`
}

/** One joined row of a page: each side's raw columns, or null where that side has no row of the key. */
export interface PageRow {
  readonly live: Readonly<Record<string, unknown>> | null
  readonly shadow: Readonly<Record<string, unknown>> | null
}

/** Splits a page's raw row (l_… and s_… columns) into its two sides; a side whose first key column is null is absent. */
export function splitRow(spec: CanonicalTable, raw: Readonly<Record<string, unknown>>): PageRow {
  const side = (s: 'l' | 's') => {
    if (raw[sideColumn(s, spec.keys[0]!)] === null || raw[sideColumn(s, spec.keys[0]!)] === undefined) return null
    const row: Record<string, unknown> = {}
    for (const [c] of spec.columns) row[c] = raw[sideColumn(s, c)]
    return row
  }
  return { live: side('l'), shadow: side('s') }
}

/**
 * How many of a page's rows (sorted by key) are complete. Each side brought its first `size` keys after the page's
 * start; a side that brought fewer has nothing further, but one that brought `size` may have more keys beyond its
 * last, which could pair with the other side's later rows. So the rows up to the earlier of the full sides' last
 * keys are complete, and the next page starts after it; with no full side the page holds the rest of the table.
 */
export function completeRows(
  rows: readonly PageRow[],
  size: number,
): { readonly complete: number; readonly done: boolean } {
  let live = 0
  let shadow = 0
  let lastLive = -1
  let lastShadow = -1
  rows.forEach((row, i) => {
    if (row.live !== null) {
      live++
      lastLive = i
    }
    if (row.shadow !== null) {
      shadow++
      lastShadow = i
    }
  })
  const ends = [...(live >= size ? [lastLive] : []), ...(shadow >= size ? [lastShadow] : [])]
  if (ends.length === 0) return { complete: rows.length, done: true }
  return { complete: Math.min(...ends) + 1, done: false }
}

/** Reads one page of `spec`'s table: the rows of `text` run with `params` (the key to start after, in key order). */
export type PageReader = (
  text: string,
  params: readonly unknown[],
  spec: CanonicalTable,
) => Promise<readonly Record<string, unknown>[]>

/** The printable key of a row: its key columns' canonical values, joined by '/' for a composite key. */
function keyText(canonical: Record<string, string | null>, spec: CanonicalTable): string {
  return spec.keys.map(k => canonical[k] ?? '').join('/')
}

class SideSum {
  readonly #hash: Hash = createHash('sha256')
  rows = 0

  add(canonical: Record<string, string | null>): string {
    const text = JSON.stringify(Object.values(canonical))
    this.#hash.update(text)
    this.#hash.update('\n')
    this.rows++
    return text
  }

  digest(): string {
    return this.#hash.digest('hex')
  }
}

/**
 * Compares one table page by page. Memory holds one page (at most 2 × `pageSize` rows) and the first `limit`
 * differences, whatever the tables hold. The checksum of a side is SHA-256 over its canonical rows in key order,
 * one JSON array per line, so equal checksums mean equal rows.
 */
export async function compareTable(
  dialect: PageDialect,
  spec: CanonicalTable,
  read: PageReader,
  limit: number,
  { pageSize = comparePageSize, onPage }: CompareTuning = {},
): Promise<TableCheck> {
  const live = new SideSum()
  const shadow = new SideSum()
  const differing: RowDiff[] = []
  const firstText = pageQuery(dialect, spec, pageSize, true)
  const nextText = pageQuery(dialect, spec, pageSize, false)
  let after: readonly unknown[] | undefined
  for (;;) {
    const rows = (await read(after === undefined ? firstText : nextText, after ?? [], spec)).map(r => splitRow(spec, r))
    onPage?.(spec.table, rows.length)
    const { complete, done } = completeRows(rows, pageSize)
    for (const row of rows.slice(0, complete)) {
      const l = row.live === null ? null : canonicalRow(spec, row.live)
      const s = row.shadow === null ? null : canonicalRow(spec, row.shadow)
      const lText = l === null ? undefined : live.add(l)
      const sText = s === null ? undefined : shadow.add(s)
      if (lText !== sText && differing.length < limit) {
        differing.push({ key: keyText((l ?? s)!, spec), live: l, shadow: s })
      }
    }
    if (done) break
    const last = rows[complete - 1]!
    const raw = (last.live ?? last.shadow)!
    after = spec.keys.map(k => raw[k])
  }
  return {
    table: spec.table,
    liveRows: live.rows,
    shadowRows: shadow.rows,
    liveChecksum: live.digest(),
    shadowChecksum: shadow.digest(),
    differing,
  }
}

/** Compares every projection table (canonicalTables), one after the other. */
export async function compareAll(
  dialect: PageDialect,
  read: PageReader,
  limit: number,
  tuning: CompareTuning = {},
): Promise<TableCheck[]> {
  checkCompareLimit(limit)
  const checks: TableCheck[] = []
  for (const spec of canonicalTables) checks.push(await compareTable(dialect, spec, read, limit, tuning))
  return checks
}
