// Where a redriven record came from. A redrive sends a dead letter's record again as a new Kafka record, with
// the original's coordinates in the `x-redrive-source` header (`topic/partition/offset`); the consumer reads them
// back as the copy's position in the log, so a copy of an older version can never replace a newer one.

export const redriveSourceHeader = 'x-redrive-source'

const headerBytes = Buffer.from(redriveSourceHeader)

/** A position in the log: the coordinates of the record a copy was made from. */
export interface OriginalRecord {
  readonly topic: string
  readonly partition: number
  readonly offset: bigint
}

// Kafka's own rule for topic names; partitions are INT32 and offsets INT64, both non-negative.
const shape = /^([a-zA-Z0-9._-]{1,249})\/(\d{1,10})\/(\d{1,19})$/
const maxOffset = 2n ** 63n - 1n
const maxValueBytes = 249 + 1 + 10 + 1 + 19

/**
 * The original a header value names, or undefined when it names none that can be: not `topic/partition/offset`
 * (`producer` marks a request the producer refused, which never was a record), a partition or offset out of
 * range, or an "original" at or after the copy itself in the copy's own partition. A copy without a valid header
 * is its own record.
 */
export function parseRedriveSource(
  value: string,
  copy: { readonly topic: string; readonly partition: number; readonly offset: bigint },
): OriginalRecord | undefined {
  const m = shape.exec(value)
  if (m === null) return undefined
  const partition = Number(m[2])
  const offset = BigInt(m[3] as string)
  if (partition > 2_147_483_647 || offset > maxOffset) return undefined
  const topic = m[1] as string
  if (topic === copy.topic && partition === copy.partition && offset >= copy.offset) return undefined
  return { topic, partition, offset }
}

/**
 * The `x-redrive-source` header among a record's headers, decoded. Most records carry one or two headers (the
 * producer's eventId), so this is a short scan comparing lengths first. Kafka lets a header's name and value be
 * null, and the client hands those over as null or undefined whatever its types say: such a header is skipped,
 * or, named `x-redrive-source` with no value, names no original ('').
 */
export function redriveSourceOf(
  headers: ReadonlyMap<Buffer | null | undefined, Buffer | null | undefined> | undefined,
): string | undefined {
  if (headers === undefined || headers.size === 0) return undefined
  for (const [name, value] of headers) {
    if (name == null || name.length !== headerBytes.length || !name.equals(headerBytes)) continue
    if (value == null) return ''
    // Longer than any valid `topic/partition/offset`: not decoded at all, whatever its size.
    return value.length > maxValueBytes ? '' : value.toString('utf8')
  }
  return undefined
}
