// The GC summary of a drain worker: counts, pauses and the bytes scavenges promoted.
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { GCProfiler, type GCProfilerResult } from 'node:v8'
import { summariseGc } from '../../bench/gc-summary.ts'
import { costsPerEvent } from '../../bench/scenarios/shared.ts'

type Stat = GCProfilerResult['statistics'][number]
const heap = (oldSpace: number) => ({
  heapStatistics: {} as Stat['beforeGC']['heapStatistics'],
  heapSpaceStatistics: [
    { spaceName: 'new_space', spaceUsedSize: 999, spaceSize: 0, spaceAvailableSize: 0, physicalSpaceSize: 0 },
    { spaceName: 'old_space', spaceUsedSize: oldSpace, spaceSize: 0, spaceAvailableSize: 0, physicalSpaceSize: 0 },
  ],
})
const gc = (gcType: string, cost: number, before: number, after: number): Stat => ({
  gcType,
  cost,
  beforeGC: heap(before),
  afterGC: heap(after),
})

it('counts collections, sums pauses, and adds what entered the old space across scavenges and between collections', () => {
  const summary = summariseGc([
    gc('Scavenge', 1500, 1000, 1600), // promoted 600
    gc('Scavenge', 500, 1700, 1700), // 100 allocated old since the last collection
    gc('MarkSweepCompact', 3000, 5000, 2000), // 3,300 allocated old before it; its shrinking is not intake
    gc('Scavenge', 1000, 2000, 2400), // promoted 400
  ])
  assert.deepEqual(summary, { scavenges: 3, others: 1, pauseMs: 6, tenuredBytes: 4400 })
})

it('counts far more tenured bytes in a process that keeps objects alive across scavenges than in one that does not', () => {
  let sink: object | undefined
  const run = (keep: boolean) => {
    const profiler = new GCProfiler()
    profiler.start()
    const kept: object[] = []
    for (let i = 0; i < 400_000; i++) {
      const o = { i, s: `v${i}` }
      if (keep) kept.push(o)
    }
    // Garbage after it, enough for every kept object to survive the two young-generation collections that
    // promote it.
    for (let j = 0; j < 8_000_000; j++) sink = { j }
    const summary = summariseGc(profiler.stop().statistics)
    return { summary, kept: kept.length, sink }
  }
  // Dropped first: once V8 has seen an allocation site's objects survive, it may allocate them old from then on.
  const dropped = run(false)
  const kept = run(true)
  assert.ok(kept.summary.scavenges > 0, 'scavenges happened')
  // 400,000 objects of at least 32 bytes each, kept across the collections; the rest of the process (compiled
  // code, the test runner) enters the old generation in both runs alike. Objects a mark-compact promotes are not
  // counted (its growth cannot be told from what it frees), and V8 runs one now and then, so only part of the
  // kept objects' 12.8 MB or more is sure to show: runs read 9 to 15 MB more when keeping them.
  const extra = kept.summary.tenuredBytes - dropped.summary.tenuredBytes
  assert.ok(
    extra > 4_000_000,
    `keeping 400,000 objects tenured ${kept.summary.tenuredBytes} bytes, keeping none ${dropped.summary.tenuredBytes}`,
  )
})

it("reports a drain's GC per event among its secondary figures, and nothing of it where the worker measured none", () => {
  const result = {
    handled: 1000,
    ms: 1000,
    deadLettered: 0,
    pendingAtEnd: 0,
    batches: 4,
    peakRssBytes: 0,
    maxRssBytes: 0,
    cpuMs: 20,
    startedAt: 0,
    finishedAt: 1000,
    postgresCpuMs: undefined,
    brokerCpuMs: 2,
  }
  const gcResult = { ...result, gc: { scavenges: 3, others: 1, pauseMs: 5, tenuredBytes: 700_000 } }
  assert.deepEqual(costsPerEvent(gcResult), {
    cpuUsPerEvent: 20,
    brokerCpuUsPerEvent: 2,
    eventsPerBatch: 250,
    gcPauseUsPerEvent: 5,
    tenuredBytesPerEvent: 700,
  })
  assert.equal('tenuredBytesPerEvent' in costsPerEvent(result), false)
})
