// The error reference (docs/errors.md): every code an answer, a dead letter or a start-up failure can carry,
// with its HTTP status, whether retrying can help, what it means and what to do. It is made from the taxonomy
// (errors.ts), the status mapping (errors.ts here) and the guide of the codes that exist only at the HTTP edge,
// so the document cannot drift from what the pipeline answers.
import {
  type ErrorCode,
  type ErrorGuide,
  type ErrorPlace,
  errorCodes,
  errorGuide,
  retryableByDefaultOf,
} from '../errors.ts'
import { type HttpErrorCode, type HttpOnlyCode, httpOnlyCodes, statusOfPipelineCode } from './errors.ts'

/** A code that exists only at the HTTP edge: its statuses (a route picks one) and whether retrying can help. */
export interface HttpOnlyGuide extends ErrorGuide {
  readonly statuses: readonly number[]
  readonly retryable: boolean
}

// A Record over every HTTP-only code, so a new one fails the type check until it is described here.
export const httpOnlyGuide: Readonly<Record<HttpOnlyCode, HttpOnlyGuide>> = {
  NOT_FOUND: {
    statuses: [404],
    retryable: false,
    meaning:
      'No route has this method and path, or the user, order, SKU, dead letter or redrive asked for does not exist.',
    action:
      'Check the path (`GET /openapi.json` lists the routes) and the id; to read what you just produced, pass the offsets of the produce answer as `?after=`.',
    seen: ['http'],
  },
  PAYLOAD_TOO_LARGE: {
    statuses: [413],
    retryable: false,
    meaning:
      'The request body is larger than the limit (PRODUCE_BODY_LIMIT on the producer; the message says the size).',
    action: 'Send fewer events per request, or raise PRODUCE_BODY_LIMIT.',
    seen: ['http'],
  },
  UNSUPPORTED_MEDIA_TYPE: {
    statuses: [415],
    retryable: false,
    meaning: 'The body is not sent as `Content-Type: application/json`.',
    action: 'Send the header `Content-Type: application/json`.',
    seen: ['http'],
  },
  BAD_REQUEST: {
    statuses: [400],
    retryable: false,
    meaning:
      'A request the server cannot use: an admin request with a bad filter or parameters that do not go together, or a malformed HTTP request (which keeps any other 4xx status the HTTP server gave it).',
    action: 'Read the message, fix the request; `GET /openapi.json` describes every parameter.',
    seen: ['http'],
  },
  BATCH_TOO_LARGE: {
    statuses: [400],
    retryable: false,
    meaning: 'A produce batch holds more events than PRODUCE_BATCH_MAX.',
    action: 'Split the batch, or raise PRODUCE_BATCH_MAX.',
    seen: ['http'],
  },
  EMPTY_BATCH: {
    statuses: [400],
    retryable: false,
    meaning: 'A produce batch (a JSON array) holds no event.',
    action: 'Send at least one event, or do not send the request.',
    seen: ['http'],
  },
  UNAUTHORIZED: {
    statuses: [401],
    retryable: false,
    meaning: 'The route needs a bearer token and the request has none, or the wrong one.',
    action:
      'Send `Authorization: Bearer <token>` with the token of the variable the message names (PRODUCE_TOKEN, READ_TOKEN or ADMIN_TOKEN).',
    seen: ['http'],
  },
  INVALID_AFTER: {
    statuses: [400],
    retryable: false,
    meaning: '`?after=` is not a list of `partition:offset` pairs.',
    action: 'Pass the `partition:offset` pairs of produce answers, comma-separated, unchanged.',
    seen: ['http'],
  },
  AFTER_BEYOND_LOG: {
    statuses: [400],
    retryable: false,
    meaning:
      "`?after=` names an offset at or past its partition's log end, or a partition the topic does not have: no such record was written.",
    action:
      'Pass only offsets that produce answers gave, against the same topic; the answer carries `partition` and `endOffset` or `partitions`.',
    seen: ['http'],
  },
  NOT_APPLIED_YET: {
    statuses: [503],
    retryable: true,
    meaning: 'The offsets of `?after=` were not processed within READ_WAIT_MS; X-Applied-Offsets says how far it got.',
    action: 'Retry after Retry-After; if it lasts, the consumer is behind or stopped (see its /ready and lag).',
    seen: ['http'],
  },
  TOO_MANY_WAITERS: {
    statuses: [429, 503],
    retryable: true,
    meaning:
      'Too many reads with `?after=` wait already: READ_WAITERS_PER_ADDRESS from this client address (429) or READ_WAITERS_MAX in all (503).',
    action: 'Retry after Retry-After; a client that waits on many reads at once should wait on fewer.',
    seen: ['http'],
  },
  INVALID_ID: {
    statuses: [400],
    retryable: false,
    meaning: 'The id in the path is empty, longer than 100 characters, has blanks around it or control characters.',
    action: 'Send the id as the producer accepted it (1 to 100 characters, no surrounding blanks), URL-encoded.',
    seen: ['http'],
  },
}

/** One row of the reference: a code with everything the table shows of it. */
export interface ErrorRow extends ErrorGuide {
  readonly code: HttpErrorCode
  /** The statuses it answers with; empty when it is never an HTTP answer. */
  readonly statuses: readonly number[]
  readonly retryable: boolean
}

/** Every code, the taxonomy's first and then the HTTP-only ones, each in the order of its list. */
export function errorRows(): ErrorRow[] {
  const pipeline = errorCodes.map((code: ErrorCode): ErrorRow => {
    const guide = errorGuide[code]
    // A status only where the code reaches a client: a dead letter's or a start-up failure's status would be
    // one no client ever sees.
    const statuses = guide.seen.includes('http') ? [statusOfPipelineCode(code)] : []
    return { code, ...guide, statuses, retryable: retryableByDefaultOf(code) }
  })
  const edge = httpOnlyCodes.map((code): ErrorRow => ({ code, ...httpOnlyGuide[code] }))
  return [...pipeline, ...edge]
}

const placeNames: Readonly<Record<ErrorPlace, string>> = {
  http: 'HTTP answer',
  'dead letter': 'dead letter',
  'start-up': 'start-up failure',
  'consumer log': 'consumer log',
}

const cell = (text: string) => text.replaceAll('|', '\\|').replace(/\s*\n\s*/g, ' ')

/** The error reference as a markdown table (`pipeline error-table`), the one docs/errors.md holds. */
export function errorTable(): string {
  const rows = errorRows().map(row => {
    const statuses = row.statuses.length === 0 ? '—' : row.statuses.join(', ')
    const cells = [
      `\`${row.code}\``,
      statuses,
      row.retryable ? 'yes' : 'no',
      row.seen.map(place => placeNames[place]).join(', '),
    ]
    return `| ${[...cells, row.meaning, row.action].map(cell).join(' | ')} |`
  })
  return [
    '| Code | HTTP status | Retry helps | Seen in | What it means | What to do |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n')
}
