// Read-your-own-writes at the HTTP edge, as pure functions: the `?after=<partition>:<offset>[,…]` a read may
// carry (copied from produce answers), the X-Applied-Offsets header every read answer carries, and the rule
// between them.
//
// Both speak of Kafka offsets of records, as the producer reports them: `p:o` in the header means every record
// of partition p up to and including offset o is processed (applied, stored as pending, or dead-lettered), and
// `after=p:o` is satisfied when the header's offset for p is at least o.

/** Applied-through offset per partition of the topic. */
export type Offsets = ReadonlyMap<number, bigint>

/** Most partitions one after= may name, and its longest text: a read names the few partitions it wrote to. */
export const afterMaxEntries = 128
export const afterMaxLength = 4096

const maxPartition = 2 ** 31 - 1
const maxOffset = 2n ** 63n - 1n
const entry = /^(\d{1,10}):(\d{1,19})$/

export type ParsedAfter =
  | { readonly ok: true; readonly wanted: Offsets }
  | { readonly ok: false; readonly message: string }

const refuse = (message: string): ParsedAfter => ({ ok: false, message })

/**
 * The offsets a read must see, from the raw query value: absent means none. A partition named twice keeps its
 * greater offset. Messages quote nothing of the input but one short entry, so they stay bounded.
 */
export function parseAfter(raw: unknown): ParsedAfter {
  if (raw === undefined) return { ok: true, wanted: new Map() }
  if (typeof raw !== 'string')
    return refuse('after must be given once, as <partition>:<offset>[,<partition>:<offset>…]')
  if (raw.length > afterMaxLength) return refuse(`after is longer than ${afterMaxLength} characters`)
  const parts = raw.split(',')
  if (parts.length > afterMaxEntries) return refuse(`after names more than ${afterMaxEntries} partitions`)
  const wanted = new Map<number, bigint>()
  for (const part of parts) {
    const m = entry.exec(part)
    const partition = m === null ? Number.NaN : Number(m[1])
    const offset = m === null ? -1n : BigInt(m[2] ?? '')
    if (m === null || partition > maxPartition || offset > maxOffset) {
      const shown = part.length > 40 ? `${part.slice(0, 40)}…` : part
      return refuse(
        `after entry ${JSON.stringify(shown)} is not <partition>:<offset> (whole numbers, as POST /produce answers them)`,
      )
    }
    if (offset > (wanted.get(partition) ?? -1n)) wanted.set(partition, offset)
  }
  return { ok: true, wanted }
}

/** Whether the applied offsets reach every offset a read asked for. */
export function covers(applied: Offsets, wanted: Offsets): boolean {
  for (const [partition, offset] of wanted) if ((applied.get(partition) ?? -1n) < offset) return false
  return true
}

/** Whether two sets of offsets are the same, partition by partition. */
export function sameOffsets(a: Offsets, b: Offsets): boolean {
  if (a.size !== b.size) return false
  for (const [partition, offset] of a) if (b.get(partition) !== offset) return false
  return true
}

/** The X-Applied-Offsets value: `partition:offset` by partition, comma-separated; empty before anything applied. */
export function formatOffsets(applied: Offsets): string {
  return [...applied.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([partition, offset]) => `${partition}:${offset}`)
    .join(',')
}
