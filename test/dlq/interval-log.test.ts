import assert from 'node:assert/strict'
import { it } from 'node:test'
import { type Counts, createIntervalLog } from '../../src/dlq/index.ts'

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

it('tells the first occurrence at once, then the rest once per interval, and loses no count', async () => {
  const told: Counts[] = []
  const log = createIntervalLog(100, counts => told.push(counts))
  log.add('rate')
  assert.deepEqual(told, [{ rate: 1 }])
  for (let i = 0; i < 500; i++) log.add(i % 2 === 0 ? 'rate' : 'bytes')
  assert.equal(told.length, 1, 'nothing more within the interval')
  await sleep(160)
  assert.deepEqual(told[1], { rate: 250, bytes: 250 })
  await sleep(250)
  assert.equal(told.length, 2, 'an interval with nothing new tells nothing')
  log.add('entries', 3)
  assert.deepEqual(told[2], { entries: 3 }, 'after a quiet interval the next one is told at once')
  log.add('entries')
  log.close()
  assert.deepEqual(told[3], { entries: 1 }, 'close tells what is left')
  const total = told.reduce((sum, c) => sum + Object.values(c).reduce((a, b) => a + b, 0), 0)
  assert.equal(total, 1 + 500 + 3 + 1)
})
