// The overview's applied rate per partition: the change of the group's committed offset between two refreshes.
import type { PartitionRow } from './types.ts'

/** Committed offsets at one refresh. */
export interface Sample {
  readonly at: number
  readonly committed: ReadonlyMap<number, number>
}

export function sampleOf(at: number, partitions: readonly PartitionRow[] | null): Sample {
  const committed = new Map<number, number>()
  for (const p of partitions ?? []) if (p.committed !== null) committed.set(p.partition, p.committed)
  return { at, committed }
}

/** Records per second since `previous`, never negative (a reset group commits lower); undefined when unknown. */
export function appliedRate(previous: Sample | undefined, now: number, row: PartitionRow): number | undefined {
  const before = previous?.committed.get(row.partition)
  if (previous === undefined || before === undefined || row.committed === null || now <= previous.at) return undefined
  return Math.max(0, Math.round(((row.committed - before) * 1000) / (now - previous.at)))
}
