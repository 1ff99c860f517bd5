import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { PipelineError } from '../../src/errors.ts'
import { keyOf, parseEvent, parseRecord } from '../../src/events/index.ts'
import { inventoryAdjusted, orderPlaced, paymentSettled, userCreated } from '../helpers/events.ts'

function rejects(value: unknown, code: string, ...paths: string[]) {
  assert.throws(
    () => parseEvent(value),
    (error: unknown) => {
      assert.ok(error instanceof PipelineError)
      assert.equal(error.code, code, error.message)
      assert.equal(error.retryable, false)
      for (const path of paths)
        assert.ok(error.paths.includes(path), `${path} in ${JSON.stringify(error.paths)}: ${error.message}`)
      return true
    },
  )
}

describe('parseEvent', () => {
  it('accepts each type and derives its Kafka key', () => {
    assert.equal(keyOf(parseEvent(userCreated('u-1'))), 'u-1')
    assert.equal(keyOf(parseEvent(orderPlaced('o-1', 'u-1'))), 'o-1')
    assert.equal(keyOf(parseEvent(paymentSettled('o-1'))), 'o-1')
    assert.equal(keyOf(parseEvent(inventoryAdjusted('sku-1', -2))), 'sku-1')
  })

  it('normalises dates to ISO-8601 UTC with milliseconds', () => {
    const e = parseEvent({ ...userCreated('u'), timestamp: '2025-01-11T13:00:00+01:00' })
    assert.equal(e.timestamp, '2025-01-11T12:00:00.000Z')
  })

  it('reports every failing field path', () => {
    rejects({ eventId: 'e', type: 'UserCreated', timestamp: '2025-01-11T12:04:00Z' }, 'SCHEMA_VIOLATION', '/data')
    const bad = {
      ...orderPlaced('o', 'u'),
      data: { orderId: 5, userId: '', total: '1', createdAt: 'yesterday', extra: 1 },
    }
    rejects(bad, 'SCHEMA_VIOLATION', '/data/orderId', '/data/userId', '/data/total', '/data/createdAt', '/data/extra')
  })

  it('refuses unknown types, naming the known ones', () => {
    rejects(
      { eventId: 'e', type: 'InvalidEvent', timestamp: '2025-01-11T12:05:00Z', data: {} },
      'UNKNOWN_TYPE',
      '/type',
    )
  })

  it('refuses impossible dates and dates outside DATETIME2', () => {
    rejects({ ...userCreated('u'), timestamp: '2025-02-30T12:00:00Z' }, 'SCHEMA_VIOLATION', '/timestamp')
    rejects({ ...userCreated('u'), timestamp: '10000-01-01T00:00:00Z' }, 'SCHEMA_VIOLATION', '/timestamp')
  })

  it('enforces column limits: money, integers, id and text lengths', () => {
    rejects(orderPlaced('o', 'u', { total: 1.234 }), 'SCHEMA_VIOLATION', '/data/total')
    rejects(orderPlaced('o', 'u', { total: 1e13 }), 'SCHEMA_VIOLATION', '/data/total')
    rejects(inventoryAdjusted('s', 2 ** 31), 'SCHEMA_VIOLATION', '/data/delta')
    rejects(inventoryAdjusted('s', 1.5), 'SCHEMA_VIOLATION', '/data/delta')
    rejects(userCreated('x'.repeat(101)), 'SCHEMA_VIOLATION', '/data/userId')
    rejects(userCreated(' padded'), 'SCHEMA_VIOLATION', '/data/userId')
    rejects(userCreated('u', { name: 'n'.repeat(256) }), 'SCHEMA_VIOLATION', '/data/name')
    rejects(userCreated('u', { name: 'a\u0000b' }), 'SCHEMA_VIOLATION', '/data/name')
    const big = parseEvent(orderPlaced('o', 'u', { total: 9_999_999_999_999.99 }))
    assert.equal(big.type === 'OrderPlaced' && big.data.total, 9_999_999_999_999.99)
  })

  it('keeps SQL-injection text and unicode as they are', () => {
    const name = "Robert'); DROP TABLE users;-- 🎉 ñ"
    const e = parseEvent(userCreated('u', { name }))
    assert.equal(e.type === 'UserCreated' && e.data.name, name)
  })

  it('refuses what is not an object', () => {
    for (const v of [null, 1, 'x', [], true]) rejects(v, 'SCHEMA_VIOLATION', '/')
  })
})

describe('parseRecord', () => {
  it('decodes UTF-8 JSON bytes', () => {
    assert.equal(parseRecord(Buffer.from(JSON.stringify(userCreated('u-9')))).eventId.length > 0, true)
  })

  it('refuses empty values, invalid UTF-8 and non-JSON as INVALID_JSON', () => {
    for (const value of [null, undefined, Buffer.alloc(0), Buffer.from([0xff, 0xfe]), Buffer.from('{not json')]) {
      assert.throws(
        () => parseRecord(value),
        (e: unknown) => e instanceof PipelineError && e.code === 'INVALID_JSON',
      )
    }
  })
})
