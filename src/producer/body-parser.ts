// The body parser of POST /produce, as a Fastify plugin applied to the scope that registers it. Only JSON is
// parsed (Fastify answers 415 to anything else), and it is parsed here so that a body that is not JSON can still
// be dead-lettered as the text it was. JSON.parse never assigns prototypes, and the event schemas refuse unknown
// fields such as __proto__, so no prototype can be polluted downstream.
import type { FastifyInstance } from 'fastify'
import { PipelineError } from '../errors.ts'
import { clip } from '../events/index.ts'
import { type JsonShapeLimits, jsonShapeExcess } from './json-shape.ts'
import { keepBody } from './refused.ts'

/**
 * The shape limits of a request body. A batch is 3 levels deep and an event has at most 9 members in one object;
 * the margins leave room for mistakes to be reported by the schema, with the fields they name.
 */
const bodyShape: JsonShapeLimits = { depth: 64, members: 64 }

/** A body refused before it became a JSON value: kept so the handler can dead-letter its text. */
export class UnparsedBody {
  readonly text: string
  readonly error: PipelineError
  constructor(text: string, error: PipelineError) {
    this.text = text
    this.error = error
  }
}

export function isJsonMediaType(contentType: string | undefined): boolean {
  return contentType?.split(';', 1)[0]?.trim().toLowerCase() === 'application/json'
}

/** The JSON text of a body, parsed, or an UnparsedBody saying why not. */
export function parseBody(text: string): unknown {
  // Deep nesting makes recursive code downstream (serialisers, validators) overflow its stack, and objects with
  // thousands of members make parsing and validation slow: refuse both here, as a 400 with the text kept for the
  // DLQ, before anything parses them.
  const excess = jsonShapeExcess(text, bodyShape)
  if (excess?.kind === 'depth') {
    return new UnparsedBody(text, new PipelineError('INVALID_JSON', `JSON nested deeper than ${excess.limit} levels`))
  }
  if (excess?.kind === 'members') {
    const error = new PipelineError(
      'SCHEMA_VIOLATION',
      `invalid event: an object in the body has more than ${excess.limit} fields; an event has 4 and its data at most 5`,
      { paths: ['/'] },
    )
    return new UnparsedBody(text, error)
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    const reason = text.trim() === '' ? 'the body is empty' : clip((error as Error).message, 200)
    return new UnparsedBody(text, new PipelineError('INVALID_JSON', `request body is not valid JSON: ${reason}`))
  }
}

/**
 * Replaces the scope's content type parsers with the JSON one above; the body's text is kept for the DLQ
 * (keepBody) whatever becomes of it.
 */
export async function jsonBodyParser(scope: FastifyInstance): Promise<void> {
  scope.removeAllContentTypeParsers()
  scope.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string
    keepBody(request, text)
    done(null, parseBody(text))
  })
}
// Applies to the scope that registers it, not to a child scope of its own (what fastify-plugin does).
Object.assign(jsonBodyParser, { [Symbol.for('skip-override')]: true })
