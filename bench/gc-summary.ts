// What the garbage collector did on the main thread of a drain worker, from node:v8's GCProfiler: how many
// collections, how long they paused the thread, and how many bytes entered the old generation, promoted by a
// young-generation collection or allocated there directly (V8 pretenures an allocation site whose objects keep
// surviving). Those bytes measure what the code keeps alive across collections directly, where the CPU figure
// shows it only through the collector's share (docs/performance.md, "What the consumer's garbage collector
// copies").
import type { GCProfilerResult } from 'node:v8'

export interface GcSummary {
  readonly scavenges: number
  /** Every other collection: mark-compact, and the minor mark-sweep where V8 is asked for it. */
  readonly others: number
  /** The main thread's pauses, all collections (GCProfiler's cost, in µs, summed). */
  readonly pauseMs: number
  /**
   * Bytes that entered the old generation: its growth across each scavenge (promotion) and between collections
   * (pretenured allocation). A mark-compact is not counted: its promotions cannot be told from what it frees.
   */
  readonly tenuredBytes: number
}

const used = (space: string, stats: GCProfilerResult['statistics'][number]['beforeGC']) =>
  stats.heapSpaceStatistics.find(s => s.spaceName === space)?.spaceUsedSize ?? 0

export function summariseGc(statistics: GCProfilerResult['statistics']): GcSummary {
  let scavenges = 0
  let others = 0
  let pauseUs = 0
  let tenuredBytes = 0
  let lastAfter: number | undefined
  for (const gc of statistics) {
    pauseUs += gc.cost
    const before = used('old_space', gc.beforeGC)
    const after = used('old_space', gc.afterGC)
    if (lastAfter !== undefined) tenuredBytes += Math.max(0, before - lastAfter)
    lastAfter = after
    if (gc.gcType === 'Scavenge') {
      scavenges++
      tenuredBytes += Math.max(0, after - before)
    } else others++
  }
  return { scavenges, others, pauseMs: pauseUs / 1000, tenuredBytes }
}
