// The PostgreSQL driver's pure pieces: the array literals the write statements and lookups send.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
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
})
