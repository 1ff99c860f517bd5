// What `pipeline dlq …` prints for people: fixed-width tables, one line per entry, and a progress bar on a
// terminal. Machine output (--json) does not come through here.

import type { DeadLetter } from '../dlq/index.ts'
import type { AuditRecord, Page, Stats } from '../dlq-ops/index.ts'
import { typeOf } from '../dlq-ops/index.ts'

const cut = (text: string, width: number) => (text.length > width ? `${text.slice(0, width - 1)}…` : text)
const oneLine = (text: string) => text.replace(/\s+/g, ' ')

/** Columns padded to their widest cell (each cell first cut to its column's limit). */
export function table(header: readonly string[], rows: readonly (readonly string[])[], limits: readonly number[]) {
  const cells = [header, ...rows].map(row => row.map((cell, i) => cut(oneLine(cell), limits[i] ?? 40)))
  const widths = header.map((_, i) => Math.max(...cells.map(row => (row[i] ?? '').length)))
  return cells
    .map(row =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

export const whereOf = (l: DeadLetter) => (l.topic === null ? 'producer' : `${l.topic}/${l.partition}/${l.offset}`)

export function entriesTable(entries: readonly DeadLetter[]): string {
  return table(
    ['FAILED AT', 'CODE', 'TYPE', 'EVENT ID', 'KEY', 'FROM', 'MESSAGE'],
    entries.map(l => [
      l.failedAt,
      l.error.code,
      typeOf(l) ?? '-',
      l.eventId ?? '-',
      l.key ?? '-',
      whereOf(l),
      l.error.message,
    ]),
    [24, 22, 18, 38, 24, 30, 60],
  )
}

export function pageText(page: Page): string {
  const lines = [page.entries.length === 0 ? '(no matching entries)' : entriesTable(page.entries)]
  lines.push(`${page.entries.length} shown; ${page.total} in the DLQ`)
  if (page.next !== null) lines.push(`more: --cursor ${page.next}`)
  return lines.join('\n')
}

export function letterText(l: DeadLetter): string {
  const lines = [
    `eventId:   ${l.eventId ?? '-'}`,
    `failedAt:  ${l.failedAt}  (attempts ${l.attempts}, source ${l.source})`,
    `from:      ${whereOf(l)}  key ${l.key ?? '-'}`,
    `error:     ${l.error.code}: ${l.error.message}`,
  ]
  if (l.payloadTruncated)
    lines.push(`payload:   cut to a prefix of ${l.payloadBytes} bytes (sha256 ${l.payloadSha256})`)
  lines.push(`payload (${l.payloadEncoding}):`, l.payload ?? '(none)')
  return lines.join('\n')
}

export function statsText(s: Stats): string {
  const counts = (by: Record<string, number>) =>
    Object.entries(by)
      .sort((a, b) => b[1] - a[1])
      .map(([name, n]) => `  ${String(n).padStart(8)}  ${name}`)
  return [
    `total:  ${s.total}`,
    `oldest: ${s.oldest ?? '-'}`,
    `newest: ${s.newest ?? '-'}`,
    'by code:',
    ...counts(s.byCode),
    'by type:',
    ...counts(s.byType),
  ].join('\n')
}

export function auditText(records: readonly AuditRecord[]): string {
  if (records.length === 0) return '(no audit records)'
  return table(
    ['AT', 'WHO', 'ACTION', 'ID', 'COUNT', 'FILTER', 'OUTCOME'],
    records.map(r => [
      r.at,
      r.who,
      r.action,
      r.redriveId ?? '-',
      String(r.count),
      JSON.stringify(r.filter),
      r.outcome
        ? `sent ${r.outcome.sent}, gone ${r.outcome.gone}, failed ${r.outcome.failed}, left ${r.outcome.pending}`
        : (r.error ?? ''),
    ]),
    [24, 28, 15, 24, 7, 50, 60],
  )
}

/** A progress line redrawn in place on a terminal; nothing when stderr is not one. */
export function progressBar(stream: NodeJS.WriteStream): { update(done: number, total: number): void; end(): void } {
  if (!stream.isTTY) return { update() {}, end() {} }
  let drawn = false
  return {
    update(done, total) {
      const width = 30
      const filled = total === 0 ? width : Math.round((done / total) * width)
      const percent = total === 0 ? 100 : Math.floor((done / total) * 100)
      stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} (${percent}%)`)
      drawn = true
    },
    end() {
      if (drawn) stream.write('\n')
    },
  }
}
