import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { IsDateTime as isRfc3339 } from 'typebox/format'
import { PipelineError } from '../../src/errors.ts'
import { clip, keyOf, parseEvent, parseRecord, reportLimits } from '../../src/events/index.ts'
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

  it('keeps canonical dates as they are and normalises every other accepted form the same way', () => {
    const pad = (n: number, width: number) => String(n).padStart(width, '0')
    // The canonical shape with every field over a range wider than valid, so both paths are exercised.
    const shaped = fc
      .tuple(
        fc.integer({ min: 0, max: 9999 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 25 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 999 }),
        fc.constantFrom('Z', '+00:00', '-05:30', 'z'),
      )
      .map(([y, mo, d, h, mi, s, ms, zone]) => {
        const date = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}`
        return `${date}.${pad(ms, 3)}${zone}`
      })
    fc.assert(
      fc.property(
        fc.oneof(
          shaped,
          fc.date({ noInvalidDate: true }).map(d => d.toISOString()),
        ),
        value => {
          let accepted: string | undefined
          try {
            accepted = parseEvent({ ...userCreated('u'), timestamp: value }).timestamp
          } catch (error) {
            assert.ok(error instanceof PipelineError && error.paths.includes('/timestamp'), String(error))
          }
          const ms = Date.parse(value)
          const year = Number.isFinite(ms) ? new Date(ms).getUTCFullYear() : Number.NaN
          if (accepted !== undefined) {
            // Only RFC 3339 date-times get in (the canonical shortcut must not widen TypeBox's own check).
            assert.ok(isRfc3339(value), value)
            assert.ok(year >= 1 && year <= 9999, value)
            assert.equal(accepted, new Date(ms).toISOString())
          }
          const [y, mo, d, h, mi, s] = value.split(/[-T:.]/).map(Number) as number[]
          const plainlyValid = y! >= 1 && mo! >= 1 && mo! <= 12 && d! >= 1 && d! <= 28 && h! <= 23 && mi! <= 59
          if (value.endsWith('Z') && value.length === 24 && plainlyValid && s! <= 59) assert.equal(accepted, value)
        },
      ),
      { numRuns: 5_000 },
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

  it('refuses unknown fields however many there are, naming them', () => {
    // The validator lists at most 8 errors: unknown fields past that must still be refused, not let through.
    for (const n of [1, 7, 8, 9, 12, 13, 100, 5000]) {
      const e = userCreated('u')
      const data: Record<string, unknown> = { ...e.data }
      const envelope: Record<string, unknown> = { ...e }
      for (let i = 0; i < n; i++) {
        data[`extra${i}`] = i
        envelope[`extra${i}`] = i
      }
      rejects({ ...e, data }, 'SCHEMA_VIOLATION', '/data/extra0')
      rejects(envelope, 'SCHEMA_VIOLATION', '/extra0')
    }
    // Unknown fields do not hide the problems of the known ones.
    const e = orderPlaced('o', 'u')
    const data: Record<string, unknown> = { ...e.data, total: 'lots', userId: '' }
    for (let i = 0; i < 8; i++) data[`extra${i}`] = i
    rejects({ ...e, data }, 'SCHEMA_VIOLATION', '/data/total', '/data/userId', '/data/extra7')
  })

  it('keeps error reports bounded, whatever the input', () => {
    const reportOf = (value: unknown) => {
      try {
        parseEvent(value)
      } catch (error) {
        assert.ok(error instanceof PipelineError)
        return error
      }
      assert.fail('accepted')
    }
    const e = userCreated('u')
    const wide: Record<string, unknown> = { ...e.data }
    for (let i = 0; i < 95_000; i++) wide[`k${i}`] = 1
    const started = performance.now()
    const wideReport = reportOf({ ...e, data: wide })
    const ms = performance.now() - started
    assert.ok(wideReport.paths.includes('/data'), wideReport.message.slice(0, 200))
    assert.ok(wideReport.paths.length <= reportLimits.problems)
    assert.ok(wideReport.message.length < 2000, `${wideReport.message.length} characters`)
    // The scan stops at the first fields past the limit: far cheaper than checking all 95,000.
    assert.ok(ms < 500, `${ms} ms`)

    const name = 'n'.repeat(1_000_000)
    const long = reportOf({ ...e, data: { ...e.data, [name]: 1 }, [name]: 2 })
    assert.ok(long.message.length < 1000, `${long.message.length} characters`)
    assert.ok(long.paths.every(p => p.length <= reportLimits.quote + 10))
    assert.ok(long.paths.includes(`/data/${clip(name)}`), JSON.stringify(long.paths))
    assert.ok(long.paths.includes(`/${clip(name)}`))

    const type = reportOf({ ...e, type: 't'.repeat(1_000_000) })
    assert.equal(type.code, 'UNKNOWN_TYPE')
    assert.ok(type.message.length < 300)
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
    assert.throws(
      () => parseRecord(Buffer.from(`{"a": x${'y'.repeat(1_000_000)}`)),
      (e: unknown) => e instanceof PipelineError && e.message.length < 300,
    )
  })
})
