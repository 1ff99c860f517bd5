import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { jsonShapeExcess } from '../../src/producer/json-shape.ts'

const limits = { depth: 4, members: 3 }

describe('jsonShapeExcess', () => {
  it('passes what is within the limits and names the first excess', () => {
    assert.equal(jsonShapeExcess('[{"a":1,"b":{"c":[1,2,3,4,5]},"d":"x"}]', limits), undefined)
    assert.deepEqual(jsonShapeExcess('{"a":1,"b":2,"c":3,"d":4}', limits), { kind: 'members', limit: 3 })
    assert.deepEqual(jsonShapeExcess('[[[[[1]]]]]', limits), { kind: 'depth', limit: 4 })
    // Members are counted per object: siblings and nested objects do not add up.
    assert.equal(jsonShapeExcess('[{"a":1,"b":2,"c":3},{"a":{"x":1,"y":2,"z":3},"b":2}]', limits), undefined)
  })

  it('ignores brackets, colons and quotes inside strings', () => {
    assert.equal(jsonShapeExcess('{"a:b:c:d":"[[[[[{:::}","e\\"::":1}', limits), undefined)
    assert.equal(jsonShapeExcess('["\\\\",{"a":1}]', limits), undefined)
    // A string ends at the first quote after an even run of backslashes, and only there.
    assert.deepEqual(jsonShapeExcess(String.raw`{"a":"x\\","b":1,"c":2,"d":3}`, limits), {
      kind: 'members',
      limit: 3,
    })
    assert.equal(jsonShapeExcess(String.raw`{"a":"x\","b":1,"c":2,"d":3"}`, limits), undefined)
    assert.equal(jsonShapeExcess('{"a":"never closed, [[[[[', limits), undefined)
  })

  it('counts as JSON.parse sees it: members and depth of any JSON value', () => {
    const shape = (v: unknown): { depth: number; members: number } => {
      if (Array.isArray(v)) {
        const inner = v.map(shape)
        return {
          depth: 1 + Math.max(0, ...inner.map(s => s.depth)),
          members: Math.max(0, ...inner.map(s => s.members)),
        }
      }
      if (typeof v === 'object' && v !== null) {
        const inner = Object.values(v).map(shape)
        return {
          depth: 1 + Math.max(0, ...inner.map(s => s.depth)),
          members: Math.max(Object.keys(v).length, ...inner.map(s => s.members)),
        }
      }
      return { depth: 0, members: 0 }
    }
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), value => {
        const text = JSON.stringify(value)
        const actual = shape(JSON.parse(text))
        const excess = jsonShapeExcess(text, limits)
        const within = actual.depth <= limits.depth && actual.members <= limits.members
        assert.equal(excess === undefined, within, `${text} ${JSON.stringify(actual)}`)
      }),
      { numRuns: 500 },
    )
  })
})
