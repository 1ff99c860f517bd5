// ?after= parsing, the coverage rule and the X-Applied-Offsets text, alone.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { afterMaxEntries, afterMaxLength, covers, formatOffsets, parseAfter } from '../../src/api/after.ts'

const offsets = (...pairs: [number, bigint][]) => new Map(pairs)

describe('parseAfter', () => {
  it('reads partition:offset pairs, keeping the greatest offset of a partition named twice', () => {
    assert.deepEqual(parseAfter(undefined), { ok: true, wanted: new Map() })
    assert.deepEqual(parseAfter('0:1234,1:988'), { ok: true, wanted: offsets([0, 1234n], [1, 988n]) })
    assert.deepEqual(parseAfter('2:5,2:9,2:7'), { ok: true, wanted: offsets([2, 9n]) })
    assert.deepEqual(parseAfter('2147483647:9223372036854775807'), {
      ok: true,
      wanted: offsets([2147483647, 9223372036854775807n]),
    })
  })

  it('refuses anything else with a bounded message', () => {
    for (const bad of [
      '',
      '0',
      '0:',
      ':1',
      '0:1,',
      ' 0:1',
      '0:-1',
      '-1:0',
      '0:1.5',
      '0:0x10',
      '2147483648:0',
      '0:9223372036854775808',
      '0:12345678901234567890',
      ['0:1', '1:2'],
      { a: 1 },
    ]) {
      const parsed = parseAfter(bad)
      assert.equal(parsed.ok, false, JSON.stringify(bad))
      if (!parsed.ok) assert.ok(parsed.message.length < 200, parsed.message)
    }
    const many = Array.from({ length: afterMaxEntries + 1 }, (_, i) => `${i}:1`).join(',')
    assert.match((parseAfter(many) as { message: string }).message, /more than 128 partitions/)
    const long = `0:1,${'x'.repeat(afterMaxLength)}`
    assert.match((parseAfter(long) as { message: string }).message, /longer than 4096/)
    const echoed = (parseAfter(`0:1,${'y'.repeat(1000)}`) as { message: string }).message
    assert.ok(echoed.length < 200, 'a bad entry is quoted only in part')
  })
})

describe('covers and formatOffsets', () => {
  it('covers when every asked partition reached its offset (the offset itself included)', () => {
    const applied = offsets([0, 10n], [1, 3n])
    assert.equal(covers(applied, offsets()), true)
    assert.equal(covers(applied, offsets([0, 10n], [1, 3n])), true)
    assert.equal(covers(applied, offsets([0, 11n])), false)
    assert.equal(covers(applied, offsets([2, 0n])), false, 'a partition never applied covers nothing')
  })

  it('writes partition:offset sorted by partition, empty before anything is applied', () => {
    assert.equal(formatOffsets(offsets([10, 5n], [2, 1234n], [0, 0n])), '0:0,2:1234,10:5')
    assert.equal(formatOffsets(offsets()), '')
  })
})
