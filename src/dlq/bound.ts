// The size cap of one DLQ entry. Every entry passes through here on its way to Redis (the push is the single
// choke point), so no producer body or Kafka record, however large, becomes a Redis item larger than the cap:
// the payload keeps a prefix, its full length and its SHA-256, enough to recognise the original and, for a
// consumer entry, to fetch it back from Kafka at its coordinates while the topic retains it.
import { type DeadLetter, sha256Hex } from './record.ts'

export const defaultEntryMaxBytes = 64 * 1024
/** Text fields other than the payload (error message, key, eventId) keep at most this many bytes. */
export const textMaxBytes = 1024

const ellipsis = '…'

/** The longest prefix of `text` within `maxBytes` of UTF-8, never splitting a character. */
export function utf8Prefix(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text
  // Each UTF-16 code unit is at least one byte, so the answer is shorter than maxBytes code units.
  let cut = Buffer.from(text.slice(0, maxBytes)).subarray(0, maxBytes).toString('utf8')
  // A character cut in the middle decodes to U+FFFD: drop it rather than store a character that was not sent.
  if (cut.endsWith('\uFFFD') && !text.startsWith(cut)) cut = cut.slice(0, -1)
  return cut
}

/** `text` within `maxBytes` of UTF-8; a cut one ends with '…' so a reader sees it was cut. */
export function capText(text: string, maxBytes = textMaxBytes): string {
  if (Buffer.byteLength(text) <= maxBytes) return text
  return utf8Prefix(text, maxBytes - Buffer.byteLength(ellipsis)) + ellipsis
}

const capOrNull = (text: string | null) => (text === null ? null : capText(text))
const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value))

/** The longest prefix of `payload` whose JSON string form (quotes and escapes included) fits in `budget` bytes. */
function payloadPrefix(payload: string, encoding: DeadLetter['payloadEncoding'], budget: number): string {
  if (encoding === 'base64') {
    // Base64 needs no escaping; whole 4-character groups keep the prefix decodable.
    const n = Math.max(0, budget - 2)
    return payload.slice(0, n - (n % 4))
  }
  // Escaping makes a character 1 to 6 bytes, so search the cut; JSON.stringify is the measure that matters.
  let low = 0
  let high = Math.min(payload.length, budget)
  while (low < high) {
    const mid = Math.ceil((low + high) / 2)
    if (jsonBytes(payload.slice(0, mid)) <= budget) low = mid
    else high = mid - 1
  }
  let prefix = payload.slice(0, low)
  // Never end on the first half of a surrogate pair: it would be stored as a lone, escaped surrogate.
  const last = prefix.charCodeAt(prefix.length - 1)
  if (last >= 0xd800 && last <= 0xdbff) prefix = prefix.slice(0, -1)
  return prefix
}

/**
 * The entry as stored: text fields capped at `textMaxBytes`, and when the JSON entry would pass `maxBytes`, the
 * payload cut to a prefix that keeps it within, with `payloadBytes`, `payloadSha256` and `payloadTruncated`.
 * An entry already within the cap is returned as it was (same fields, no digest).
 */
export function boundLetter(letter: DeadLetter, maxBytes: number): DeadLetter {
  const capped: DeadLetter = {
    ...letter,
    eventId: capOrNull(letter.eventId),
    key: capOrNull(letter.key),
    error: { code: letter.error.code, message: capText(letter.error.message) },
  }
  if (letter.payload === null || jsonBytes(capped) <= maxBytes) return capped
  // A payload already cut on its way here (encodeBoundedPayload) keeps the length and digest of its whole.
  const whole = letter.payloadTruncated
    ? undefined
    : Buffer.from(letter.payload, letter.payloadEncoding === 'base64' ? 'base64' : 'utf8')
  const shell: DeadLetter =
    whole === undefined
      ? { ...capped, payload: '' }
      : { ...capped, payload: '', payloadTruncated: true, payloadBytes: whole.length, payloadSha256: sha256Hex(whole) }
  // The shell counts the payload's two quotes already; the prefix's own quotes are added back to the budget.
  const budget = maxBytes - jsonBytes(shell) + 2
  return { ...shell, payload: payloadPrefix(letter.payload, letter.payloadEncoding, budget) }
}
