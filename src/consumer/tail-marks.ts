// The marks a processor still owes after a batch that ended with dead-lettered records: no transaction marked
// those offsets as processed, and a read waiting for one would otherwise wait for the partition's next batch.
// Only the decision lives here (which offset each partition still needs); the processor writes the marks.
import type { Mark } from '../store/index.ts'
import type { InboundRecord } from './dead-letters.ts'

export class TailMarks {
  /** Greatest offset owed per partition, coordinates only. */
  readonly #next = new Map<number, Mark>()

  get size(): number {
    return this.#next.size
  }

  /**
   * Owes a mark for each partition of `records` past both the mark already owed and what the batch's
   * transactions marked (`marked`, greatest offset per partition).
   */
  add(records: readonly InboundRecord[], marked: ReadonlyMap<number, bigint>): void {
    for (const r of records) {
      const mark = this.#next.get(r.partition)?.offset ?? marked.get(r.partition) ?? -1n
      // Coordinates only: a record's value must not ride along into the store.
      if (r.offset > mark) {
        const next = { topic: r.topic, partition: r.partition, offset: r.offset }
        this.#next.set(r.partition, r.topicId === undefined ? next : { ...next, topicId: r.topicId })
      }
    }
  }

  /** The marks owed, handed over and forgotten: a later add owes them again only when it passes them. */
  take(): Mark[] {
    const marks = [...this.#next.values()]
    this.#next.clear()
    return marks
  }
}
