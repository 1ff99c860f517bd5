// What this member may commit, per partition: the offset after the last record it stored or dead-lettered, for
// the partitions it owns now, never below what the group had committed when the partition came to it.
//
// Ownership changes: a revoked partition's progress is forgotten and the batches it had in flight finish without
// moving any offset (their effects are idempotent, so whoever owns the partition next may apply them again). A
// partition that comes back starts from nothing: a late result of the old ownership can never commit an offset
// below the one the new owner reached meanwhile.
import type { CommitOffset } from './commits.ts'

interface Partition {
  /** Bumped at each assignment, so a batch started under an earlier one is recognised as stale. */
  readonly generation: number
  /** The offset after the last handled record, once a batch finished. */
  next: bigint | undefined
  leaderEpoch: number
  /** The group's committed offset when the partition was assigned (once known): commits never go below it. */
  floor: bigint | undefined
}

/** Handed out when a batch starts, handed back when it finishes. */
export interface BatchTicket {
  readonly partition: number
  readonly generation: number
}

export class PartitionProgress {
  readonly #topic: string
  readonly #partitions = new Map<number, Partition>()
  #generations = 0

  constructor(topic: string) {
    this.#topic = topic
  }

  /** Partitions this member tracks (owned, as far as it last heard). */
  get partitions(): number[] {
    return [...this.#partitions.keys()].sort((a, b) => a - b)
  }

  owns(partition: number): boolean {
    return this.#partitions.has(partition)
  }

  /**
   * Brings the tracked partitions in line with the group's assignment; returns what changed. Newly assigned
   * partitions start with no progress and no floor (see setFloor).
   */
  assign(owned: readonly number[]): { added: number[]; revoked: number[] } {
    const now = new Set(owned)
    const revoked = [...this.#partitions.keys()].filter(p => !now.has(p))
    for (const p of revoked) this.#partitions.delete(p)
    const added = owned.filter(p => !this.#partitions.has(p))
    for (const p of added) {
      this.#partitions.set(p, { generation: ++this.#generations, next: undefined, leaderEpoch: -1, floor: undefined })
    }
    return { added, revoked }
  }

  /** The group's committed offset for a partition assigned in `generation` (-1n: none yet). */
  setFloor(partition: number, generation: number, committed: bigint): void {
    const p = this.#partitions.get(partition)
    if (p !== undefined && p.generation === generation) p.floor = committed
  }

  generationOf(partition: number): number | undefined {
    return this.#partitions.get(partition)?.generation
  }

  /** A batch of `partition` starts; undefined when the partition is not this member's (its records are stale). */
  begin(partition: number): BatchTicket | undefined {
    const p = this.#partitions.get(partition)
    return p === undefined ? undefined : { partition, generation: p.generation }
  }

  /**
   * A batch finished: everything up to `lastOffset` is stored or dead-lettered. Answers whether it counted (false
   * for a batch of an ownership that has ended since it started).
   */
  finish(ticket: BatchTicket, lastOffset: bigint, leaderEpoch: number): boolean {
    const p = this.#partitions.get(ticket.partition)
    if (p === undefined || p.generation !== ticket.generation) return false
    const next = lastOffset + 1n
    if (p.next === undefined || next > p.next) {
      p.next = next
      p.leaderEpoch = leaderEpoch
    }
    return true
  }

  /** Owned partitions whose floor is not known yet: the caller asks the group for it. */
  withoutFloor(): { partition: number; generation: number }[] {
    const out: { partition: number; generation: number }[] = []
    for (const [partition, p] of this.#partitions)
      if (p.floor === undefined) out.push({ partition, generation: p.generation })
    return out
  }

  /**
   * The offsets that may be committed now: owned, finished, and above the group's committed offset at the time
   * of the assignment. Until that floor is known nothing of the partition is committed: a record fetched under
   * an earlier ownership could otherwise move the group's offset back.
   */
  *offsets(): Generator<CommitOffset> {
    for (const [partition, p] of this.#partitions) {
      if (p.next === undefined || p.floor === undefined || p.next <= p.floor) continue
      yield { topic: this.#topic, partition, offset: p.next, leaderEpoch: p.leaderEpoch }
    }
  }

  /** Forgets everything: the next assignment starts over (after the stream was reopened at the committed offsets). */
  clear(): void {
    this.#partitions.clear()
  }
}
