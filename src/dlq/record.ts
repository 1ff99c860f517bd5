// The dead-letter record, as the reference system's README describes it: the original payload plus what went wrong.
import { isUtf8 } from 'node:buffer'
import { createHash } from 'node:crypto'
import type { ErrorCode } from '../errors.ts'

export interface DeadLetter {
  /** The record's eventId when it could be read, else null. */
  eventId: string | null
  /** Where the record was; null for an event the producer rejected before it reached Kafka. */
  topic: string | null
  /**
   * The Kafka topic ID of that topic when the consumer knew it: a topic deleted and re-created under its name is
   * another log, whose offsets start again.
   */
  topicId?: string
  partition: number | null
  /** Kafka offset as a decimal string (offsets are 64-bit). */
  offset: string | null
  key: string | null
  /** The original record value as received: UTF-8 text when it decodes, else base64 (see payloadEncoding). */
  payload: string | null
  payloadEncoding: 'utf8' | 'base64'
  error: { code: ErrorCode; message: string }
  /** How many times the pipeline tried before giving up. */
  attempts: number
  failedAt: string
  /** Which role dead-lettered it. */
  source: 'consumer' | 'producer'
  /**
   * Set only when the payload was cut to keep the entry under DLQ_ENTRY_MAX_BYTES (see bound.ts): then `payload`
   * is a prefix, and these say what the whole was. A consumer entry's full record stays readable in Kafka at
   * topic/partition/offset while the topic retains it.
   */
  payloadTruncated?: true
  /** Length of the whole payload in bytes (the decoded bytes for base64). */
  payloadBytes?: number
  /** SHA-256 of the whole payload's bytes, lowercase hex. */
  payloadSha256?: string
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** SHA-256 of the bytes, lowercase hex, as `payloadSha256` holds it. */
export const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

/** The payload field of a DLQ record: the bytes as text when they are UTF-8, else base64 so nothing is lost. */
export function encodePayload(bytes: Uint8Array | null | undefined): Pick<DeadLetter, 'payload' | 'payloadEncoding'> {
  if (bytes === null || bytes === undefined) return { payload: null, payloadEncoding: 'utf8' }
  try {
    return { payload: utf8.decode(bytes), payloadEncoding: 'utf8' }
  } catch {
    return { payload: Buffer.from(bytes).toString('base64'), payloadEncoding: 'base64' }
  }
}

/**
 * The payload fields of a record of any size, decoding at most `maxBytes` of it: a longer record keeps a prefix of
 * `maxBytes` (cut at a character for UTF-8, at a 3-byte group for base64), with its whole length and SHA-256
 * computed from the bytes. A record of many megabytes never becomes a string of many megabytes on its way to an
 * entry that keeps DLQ_ENTRY_MAX_BYTES of it; boundLetter then cuts the prefix to the entry's exact budget.
 */
export function encodeBoundedPayload(
  bytes: Uint8Array | null | undefined,
  maxBytes: number,
): Pick<DeadLetter, 'payload' | 'payloadEncoding' | 'payloadTruncated' | 'payloadBytes' | 'payloadSha256'> {
  if (bytes === null || bytes === undefined || bytes.length <= maxBytes) return encodePayload(bytes)
  const whole = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
  const digest = { payloadTruncated: true as const, payloadBytes: whole.length, payloadSha256: sha256Hex(whole) }
  if (!isUtf8(whole)) {
    return {
      payload: whole.subarray(0, maxBytes - (maxBytes % 3)).toString('base64'),
      payloadEncoding: 'base64',
      ...digest,
    }
  }
  // Back up to the first byte of a character: continuation bytes are 10xxxxxx.
  let cut = maxBytes
  while (cut > 0 && ((whole[cut] as number) & 0xc0) === 0x80) cut--
  return { payload: whole.subarray(0, cut).toString('utf8'), payloadEncoding: 'utf8', ...digest }
}
