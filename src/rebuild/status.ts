// What status answers, made from the rebuild's record in Redis, and a differing row cut to a bounded size.
import type { RowDiff } from '../store/index.ts'
import type { BadRecord } from './bad-records.ts'
import type { Progress } from './progress.ts'
import type { ShownState } from './state.ts'
import type { RebuildRecord, VerifySummary } from './state-store.ts'

/** A rebuild as status shows it (the admin API's GET /admin/rebuild answers this). */
export interface RebuildStatus {
  readonly id: number
  readonly state: ShownState
  readonly generation: string | null
  readonly group: string | null
  readonly topic: string | null
  readonly by: string | null
  readonly startedAt: string | null
  readonly from: string | null
  readonly updatedAt: string
  /** Whether a process works on it now (holds its lease), and for how long it does without renewing. */
  readonly worker: { readonly active: boolean; readonly leaseLeftMs: number }
  readonly progress: Progress | null
  readonly badRecords: { readonly count: number; readonly first: readonly BadRecord[] }
  readonly verify: VerifySummary | null
  readonly error: string | null
}

/** A differing row as answered: each version's text fields cut to 1,000 characters, so one answer stays bounded. */
export function boundDiff(diff: RowDiff): RowDiff {
  const cut = (row: Record<string, unknown> | null) =>
    row === null
      ? null
      : Object.fromEntries(
          Object.entries(row).map(([k, v]) => [
            k,
            typeof v === 'string' && v.length > 1000 ? `${v.slice(0, 1000)}…` : v,
          ]),
        )
  return { key: diff.key.slice(0, 500), live: cut(diff.live), shadow: cut(diff.shadow) }
}

export function statusOf(record: RebuildRecord, leaseLeftMs: number): RebuildStatus {
  const meta = record.meta
  const state: ShownState = record.verifying !== undefined ? 'verifying' : record.state
  return {
    id: record.id,
    state,
    generation: meta?.generation ?? null,
    group: meta?.group ?? null,
    topic: meta?.topic ?? null,
    by: meta?.by ?? null,
    startedAt: meta?.startedAt ?? null,
    from: meta?.from ?? null,
    updatedAt: record.updatedAt,
    worker: { active: leaseLeftMs > 0, leaseLeftMs },
    progress: record.progress ?? null,
    badRecords: { count: record.bad.count, first: record.bad.first },
    verify: record.verify ?? null,
    error: record.error ?? null,
  }
}
