// The reference model of the dead-letter queue: what the list, a lookup by eventId and the writers' counters must
// say after a sequence of operations, read one operation at a time with the written rule (docs/architecture.md,
// "What the DLQ holds"). It imports nothing from src/ on purpose: it is the specification the Redis queue is held
// to, plain arrays small enough to check by reading.

export type Writer = 'consumer' | 'producer'
export type Cap = 'entries' | 'bytes'

/** An entry as the list holds it, with what the rule needs to know of it. */
export interface ModelEntry {
  /** The exact text in the list. */
  readonly text: string
  /** Its eventId; null when it has none (or is not a dead letter at all): no lookup finds it. */
  readonly eventId: string | null
  /** Whose caps and counters it counts against: an entry that does not say 'producer' is the consumer's. */
  readonly writer: Writer
  /** Its Kafka record (`topic/partition/offset`), or '' when it has none: then it is never a repeat. */
  readonly record: string
  /**
   * Where the key summary counts it: its Kafka key, the class its payload's type concerns ('u' UserCreated, 'o'
   * OrderPlaced, 'p' PaymentSettled, 'i' InventoryAdjusted, '?' a type that cannot be read) and its record's
   * place. Absent for an entry that stands for no record of the log (a refused request, junk) or has no key.
   */
  readonly place?: ModelPlace
}

export interface ModelPlace {
  readonly key: string
  readonly class: 'u' | 'o' | 'p' | 'i' | '?'
  readonly partition: number
  readonly offset: number
  readonly eventId: string | null
}

/** The key summary's answer: how many distinct texts of a key and class are past an offset, and the newest. */
export interface ModelKeyAnswer {
  readonly count: number
  /** The greatest offset among them, with every place at that offset (any of them may be named). */
  readonly newest: readonly ModelPlace[]
}

export interface ModelCaps {
  readonly maxEntries: number
  readonly maxBytes: number
}

export interface ModelPush {
  readonly pushed: number
  readonly dropped: Partial<Record<Cap, number>>
  /** The consumer cap that stopped the push (the queue throws DLQ_FULL), if one did. */
  readonly full?: Cap
}

export const bytesOf = (text: string) => Buffer.byteLength(text, 'utf8')

export class DlqModel {
  /** Newest first, as LRANGE 0 -1 reads it. */
  list: ModelEntry[] = []
  /** The records pushed; a queue remembers them for days, longer than any sequence here. */
  readonly #seen = new Set<string>()
  readonly #caps: Record<Writer, ModelCaps>

  constructor(caps: Record<Writer, ModelCaps>) {
    this.#caps = caps
  }

  /** Entries written into the list by hand (an earlier version's): LPUSHed as they are, remembered by no one. */
  handPush(entries: readonly ModelEntry[]): void {
    for (const entry of entries) this.list.unshift(entry)
  }

  /**
   * Oldest first, each on top of the list. A repeat of a remembered record is skipped. A producer entry over its
   * writer's caps is dropped and counted; a consumer entry over its caps stops the push there.
   */
  push(entries: readonly ModelEntry[]): ModelPush {
    let pushed = 0
    const dropped: Partial<Record<Cap, number>> = {}
    for (const entry of entries) {
      if (entry.record !== '' && this.#seen.has(entry.record)) continue
      const over = this.#over(entry)
      if (over !== undefined && entry.writer === 'consumer') return { pushed, dropped, full: over }
      if (over !== undefined) {
        dropped[over] = (dropped[over] ?? 0) + 1
        continue
      }
      this.list.unshift(entry)
      if (entry.record !== '') this.#seen.add(entry.record)
      pushed++
    }
    return { pushed, dropped }
  }

  #over(entry: ModelEntry): Cap | undefined {
    const now = this.usage()[entry.writer]
    const caps = this.#caps[entry.writer]
    if (now.entries + 1 > caps.maxEntries) return 'entries'
    if (now.bytes + bytesOf(entry.text) > caps.maxBytes) return 'bytes'
    return undefined
  }

  /** Takes one copy of each text off the list, the newest; says per text whether there was one. */
  remove(texts: readonly string[]): boolean[] {
    return texts.map(text => {
      const at = this.list.findIndex(e => e.text === text)
      if (at < 0) return false
      this.list.splice(at, 1)
      return true
    })
  }

  /** remove, except the texts an open redrive claims, which stay. */
  removeUnclaimed(texts: readonly string[], claimed: ReadonlySet<string>): ('removed' | 'absent' | 'held')[] {
    return texts.map(text => {
      if (claimed.has(text)) return 'held'
      return this.remove([text])[0] ? 'removed' : 'absent'
    })
  }

  /** DEL of the list by hand. The records pushed are still remembered. */
  deleteList(): void {
    this.list = []
  }

  /** Changes nothing the rule speaks of; answers the list's length. */
  reindex(): number {
    return this.list.length
  }

  /**
   * Every entry of `eventId`, newest first. A text the list holds n times comes n times in a row, where its
   * oldest copy is.
   */
  lookup(eventId: string): string[] {
    const mine = this.list.filter(e => e.eventId === eventId).map(e => e.text)
    const texts = [...new Set(mine)].sort((a, b) => mine.lastIndexOf(a) - mine.lastIndexOf(b))
    return texts.flatMap(text => mine.filter(t => t === text))
  }

  /** How many different texts `eventId` has. */
  total(eventId: string): number {
    return new Set(this.lookup(eventId)).size
  }

  /**
   * The entries of `key` and `klass` the list holds whose offset is greater than `after` (all of them when
   * undefined), each distinct text once, and those with the greatest offset.
   */
  keySummary(klass: ModelPlace['class'], key: string, after?: number): ModelKeyAnswer {
    const texts = new Map<string, ModelPlace>()
    for (const e of this.list) {
      const p = e.place
      if (p !== undefined && p.key === key && p.class === klass && (after === undefined || p.offset > after)) {
        texts.set(e.text, p)
      }
    }
    const places = [...texts.values()]
    const top = Math.max(...places.map(p => p.offset))
    return { count: places.length, newest: places.filter(p => p.offset === top) }
  }

  usage(): Record<Writer, { entries: number; bytes: number }> {
    const of = (writer: Writer) => {
      const mine = this.list.filter(e => e.writer === writer)
      return { entries: mine.length, bytes: mine.reduce((sum, e) => sum + bytesOf(e.text), 0) }
    }
    return { consumer: of('consumer'), producer: of('producer') }
  }
}
