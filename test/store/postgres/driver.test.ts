// The PostgreSQL driver's pure pieces: the array literals the write statements and lookups send.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { arrayLiteral, arrayLiteralOf } from '../../../src/store/postgres/driver.ts'

describe('array literals', () => {
  it('quotes every element, escapes backslash and double quote, writes NULL for null and undefined', () => {
    assert.equal(arrayLiteral([]), '{}')
    assert.equal(arrayLiteral(['a', 1, null, undefined, 'NULL']), '{"a","1",NULL,NULL,"NULL"}')
    assert.equal(
      arrayLiteral(['say "hi"', 'C:\\dir', 'a,b', '{x}', ' ']),
      '{"say \\"hi\\"","C:\\\\dir","a,b","{x}"," "}',
    )
  })

  it('builds the same literal from rows and a column as from the mapped array', () => {
    const rows = [
      { id: 'u1', n: 3, note: null },
      { id: 'q"\\', n: -1.5, note: 'x' },
    ]
    type Row = (typeof rows)[number]
    const columns: ((r: Row) => unknown)[] = [r => r.id, r => r.n, r => r.note]
    for (const value of columns) {
      assert.equal(arrayLiteralOf(rows, value), arrayLiteral(rows.map(value)))
    }
    assert.equal(
      arrayLiteralOf(rows, r => r.id),
      '{"u1","q\\"\\\\"}',
    )
  })

  it('builds what an element-by-element literal builds, for any mix of strings, numbers and nulls', () => {
    // The reference: every element on its own, quoted and escaped, or NULL.
    const reference = (values: readonly unknown[]) =>
      `{${values.map(v => (v === null || v === undefined ? 'NULL' : `"${String(v).replace(/[\\"]/g, m => `\\${m}`)}"`)).join(',')}}`
    const element = fc.oneof(
      fc.string({ unit: fc.constantFrom('a', ',', '"', '\\', '{', '}', ' ', 'N', 'é') }),
      fc.string(),
      fc.integer(),
      fc.double({ noNaN: true }),
      fc.constant(null),
      fc.constant(undefined),
    )
    fc.assert(
      fc.property(fc.array(element, { maxLength: 40 }), values => {
        assert.equal(
          arrayLiteralOf(values, v => v),
          reference(values),
        )
      }),
      { numRuns: 2000 },
    )
  })
})
