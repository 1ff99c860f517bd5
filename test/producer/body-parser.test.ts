// The produce body parser's decision on a body's text, without Fastify.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isJsonMediaType, parseBody, UnparsedBody } from '../../src/producer/body-parser.ts'

describe('parseBody', () => {
  it('parses JSON', () => {
    assert.deepEqual(parseBody('[{"a":1}]'), [{ a: 1 }])
  })

  it('keeps the text of a body that is not JSON', () => {
    const body = parseBody('{nope')
    assert.ok(body instanceof UnparsedBody)
    assert.equal(body.text, '{nope')
    assert.equal(body.error.code, 'INVALID_JSON')
    assert.match(body.error.message, /not valid JSON/)
  })

  it('says an empty body is empty', () => {
    const body = parseBody('  ')
    assert.ok(body instanceof UnparsedBody)
    assert.match(body.error.message, /the body is empty/)
  })

  it('refuses deep nesting and objects with too many members before parsing', () => {
    const deep = parseBody(`${'['.repeat(100)}${']'.repeat(100)}`)
    assert.ok(deep instanceof UnparsedBody)
    assert.equal(deep.error.code, 'INVALID_JSON')
    const wide = parseBody(JSON.stringify(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`f${i}`, i]))))
    assert.ok(wide instanceof UnparsedBody)
    assert.equal(wide.error.code, 'SCHEMA_VIOLATION')
  })
})

describe('isJsonMediaType', () => {
  it('takes application/json with parameters, in any case, and nothing else', () => {
    assert.equal(isJsonMediaType('Application/JSON; charset=utf-8'), true)
    assert.equal(isJsonMediaType('text/plain'), false)
    assert.equal(isJsonMediaType(undefined), false)
  })
})
