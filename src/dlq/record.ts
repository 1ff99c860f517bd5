// The dead-letter record, as the seed README describes it: the original payload plus what went wrong.
import type { ErrorCode } from '../errors.ts'

export interface DeadLetter {
  /** The record's eventId when it could be read, else null. */
  eventId: string | null
  /** Where the record was; null for an event the producer rejected before it reached Kafka. */
  topic: string | null
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

/** The payload field of a DLQ record: the bytes as text when they are UTF-8, else base64 so nothing is lost. */
export function encodePayload(bytes: Uint8Array | null | undefined): Pick<DeadLetter, 'payload' | 'payloadEncoding'> {
  if (bytes === null || bytes === undefined) return { payload: null, payloadEncoding: 'utf8' }
  try {
    return { payload: utf8.decode(bytes), payloadEncoding: 'utf8' }
  } catch {
    return { payload: Buffer.from(bytes).toString('base64'), payloadEncoding: 'base64' }
  }
}
