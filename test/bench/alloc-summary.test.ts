// The allocation summary: bytes by function and by source area, native frames charged to their JavaScript caller.
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { type AllocationNode, summariseAllocations } from '../../bench/alloc-summary.ts'

const frame = (functionName: string, url: string, selfSize: number, children: AllocationNode[] = []) => ({
  callFrame: { functionName, url, lineNumber: 9 },
  selfSize,
  children,
})

it('charges a native frame to its JavaScript caller and sums by function and area', () => {
  const parse = 'file:///app/src/consumer/process.ts'
  const lib = 'file:///app/node_modules/@platformatic/kafka/dist/messages-stream.js'
  const head = frame('(root)', '', 0, [
    frame('#parse', parse, 100, [frame('parse', '', 900), frame('Map', '', 50)]),
    frame('#pushRecords', lib, 400, [frame('Map', '', 200)]),
    frame('(program)', '', 7),
  ])
  const { total, functions, areas } = summariseAllocations(head)
  assert.equal(total, 1657)
  assert.deepEqual(Object.fromEntries(functions), {
    '#parse  src/consumer/process.ts:10': 1050,
    '#pushRecords  @platformatic/kafka:10': 600,
    '(program)  (native/V8)': 7,
  })
  assert.deepEqual(Object.fromEntries(areas), {
    'src/consumer/process.ts': 1050,
    '@platformatic/kafka': 600,
    '(native/V8)': 7,
  })
})

it('walks a stack deeper than the call stack allows a recursion', () => {
  let node: AllocationNode = frame('leaf', '', 1)
  for (let i = 0; i < 200_000; i++) node = frame(`f${i % 3}`, 'file:///app/src/a.ts', 0, [node])
  const { total, functions } = summariseAllocations(node)
  assert.equal(total, 1)
  assert.deepEqual([...functions.keys()], ['f0  src/a.ts:10'])
})
