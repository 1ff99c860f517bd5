// The console's other pure parts: a dead letter read for people, the filter form as the API's filter, the
// applied rate between two refreshes, and the element ids the script and the page share.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { entryId, fixable, positionOf, prettyPayload, typeOf } from '../../../src/admin/console/dead-letter.ts'
import { filterOf, pageLimit } from '../../../src/admin/console/filter.ts'
import { ids } from '../../../src/admin/console/ids.ts'
import { appliedRate, sampleOf } from '../../../src/admin/console/rates.ts'
import type { DeadLetter } from '../../../src/admin/console/types.ts'

const letter = (overrides: Partial<DeadLetter> = {}): DeadLetter => ({
  eventId: 'e-1',
  topic: 'events',
  partition: 1,
  offset: '42',
  key: 'user-1',
  payload: '{"eventId":"e-1","type":"UserCreated"}',
  payloadEncoding: 'utf8',
  error: { code: 'SCHEMA_VIOLATION', message: 'email is required' },
  attempts: 1,
  failedAt: '2025-01-11T12:00:00.000Z',
  source: 'consumer',
  ...overrides,
})

describe('a dead letter, for people', () => {
  it('reads the type, the position and a page id', () => {
    assert.equal(typeOf(letter()), 'UserCreated')
    assert.equal(typeOf(letter({ payload: 'not json' })), '–')
    assert.equal(typeOf(letter({ payloadEncoding: 'base64', payload: 'AAEC' })), '–')
    assert.equal(positionOf(letter()), 'events/1@42')
    assert.equal(entryId(letter()), 'events/1/42')
    const producers = letter({ topic: null, partition: null, offset: null, source: 'producer' })
    assert.equal(positionOf(producers), 'never reached Kafka')
    assert.equal(entryId(producers), 'producer:2025-01-11T12:00:00.000Z')
  })

  it('indents a JSON payload and says what is not one', () => {
    assert.equal(prettyPayload(letter()), '{\n  "eventId": "e-1",\n  "type": "UserCreated"\n}')
    assert.equal(prettyPayload(letter({ payload: null })), '(no payload)')
    assert.equal(prettyPayload(letter({ payload: '{cut' })), '{cut')
    assert.equal(prettyPayload(letter({ payloadEncoding: 'base64', payload: 'AAEC' })), '(base64, not UTF-8)\nAAEC')
  })

  it("offers a fix for a consumer's UTF-8 entry with an eventId only", () => {
    assert.equal(fixable(letter()), true)
    assert.equal(fixable(letter({ eventId: null })), false)
    assert.equal(fixable(letter({ source: 'producer' })), false)
    assert.equal(fixable(letter({ payloadEncoding: 'base64' })), false)
  })
})

describe('the filter form', () => {
  it('leaves empty fields out, trims text and sends times as UTC', () => {
    const form: Record<string, string> = { type: ' UserCreated ', code: '', key: '', since: '2025-01-11T12:00' }
    const filter = filterOf(
      name => form[name] ?? '',
      local => `${local}:00.000Z`,
    )
    assert.deepEqual(filter, { type: 'UserCreated', since: '2025-01-11T12:00:00.000Z' })
  })

  it('keeps the page size within 1 to 1000', () => {
    assert.equal(pageLimit(''), 50)
    assert.equal(pageLimit('20'), 20)
    assert.equal(pageLimit('0'), 1)
    assert.equal(pageLimit('99999'), 1000)
  })
})

describe('the applied rate', () => {
  const row = (partition: number, committed: number | null) => ({ partition, end: 100, committed, lag: 0 })

  it('is the committed offsets per second since the previous refresh', () => {
    const previous = sampleOf(1000, [row(0, 10), row(1, null)])
    assert.equal(appliedRate(previous, 3000, row(0, 30)), 10)
    assert.equal(appliedRate(previous, 3000, row(1, 5)), undefined, 'nothing committed before')
    assert.equal(appliedRate(undefined, 3000, row(0, 30)), undefined, 'first refresh')
    assert.equal(appliedRate(previous, 1000, row(0, 30)), undefined, 'no time passed')
    assert.equal(appliedRate(previous, 3000, row(0, 0)), 0, 'a reset group is not negative')
  })
})

describe('element ids', () => {
  it('are all on the page, once each', () => {
    const html = readFileSync(new URL('../../../src/admin/console/index.html', import.meta.url), 'utf8')
    for (const id of Object.values(ids)) {
      assert.equal(html.split(`id="${id}"`).length - 1, 1, `#${id}`)
    }
  })
})
