// The CPU of other processes (PostgreSQL backends, the broker) is read from /proc: each process counts from its
// first sample, or from its start when it appeared during the measurement, up to its last sample.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { cpuUsed, postgresBackendsOf, processCpu, processId } from '../../bench/process-cpu.ts'

describe('process CPU', () => {
  it('adds what each process used between its first and its last sample', () => {
    const samples = [
      new Map([
        [1, 100],
        [2, 50],
      ]),
      new Map([
        [1, 150],
        [2, 80],
        [3, 20],
      ]),
      // 2 is gone (its connection closed): its last figure stands; 3 started during the measurement.
      new Map([
        [1, 170],
        [3, 45],
      ]),
    ]
    assert.equal(cpuUsed(samples), 70 + 30 + 45)
    assert.equal(cpuUsed([]), 0)
  })

  it("reads a process's own CPU time as Node counts it", () => {
    const until = performance.now() + 150
    while (performance.now() < until) {} // burn some CPU, so the figure is not 0
    const mine = processCpu(processId(process.pid)).get(process.pid)
    const usage = process.cpuUsage()
    const node = (usage.user + usage.system) / 1000
    assert.ok(mine !== undefined && Math.abs(mine - node) <= 30, `/proc says ${mine} ms, Node ${node} ms`)
  })

  it('tells the backends of one database by their process title', () => {
    const backends = postgresBackendsOf('ep_bench_abc')
    assert.equal(backends('postgres: 15/main: postgres ep_bench_abc 127.0.0.1(41992) idle', 1), true)
    assert.equal(backends('postgres: 15/main: postgres ep_bench_abcd 127.0.0.1(41992) idle', 1), false)
    assert.equal(backends('node bench/main.ts ep_bench_abc ', 1), false)
  })
})
