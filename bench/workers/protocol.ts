// Messages between bench/main.ts and its worker processes (child_process IPC).
import type { Found } from '../databases.ts'
import type { GcSummary } from '../gc-summary.ts'

export interface DrainRequest {
  /** rebuild: the projection rebuild's fill of a PostgreSQL shadow generation (bench/workers/rebuild.ts). */
  readonly kind: 'pipeline' | 'naive' | 'rebuild'
  readonly topic: string
  readonly partitions: number
  readonly groupId: string
  /** postgres://… or sqlite:<file>. */
  readonly databaseUrl: string
  readonly dlqKey: string
  readonly logLevel: string
  /** Offsets (per partition) whose commit ends the run; may instead come later in an `end` message. */
  readonly endOffsets?: Record<string, number>
  /** Keep every commit (time, partition, offset) for end-to-end latency. */
  readonly recordCommits?: boolean
  /**
   * pipeline only: one of several processes of one consumer group. The worker reports the partitions it owns
   * (`assigned`) and each acknowledged commit (`committed`), and ends on `stop`: no member sees every
   * partition, so the parent decides when the group has drained.
   */
  readonly member?: boolean
  /** naive only: stop after this many records or this many ms. */
  readonly maxRecords?: number
  readonly maxMs?: number
}

export interface DrainResult {
  readonly handled: number
  /** From the group join (pipeline) or the first record (naive) to the commit of the last offset. */
  readonly ms: number
  readonly deadLettered: number
  readonly pendingAtEnd: number
  readonly batches: number
  /** Largest RSS seen by sampling every 100 ms, and the kernel's high-water mark. */
  readonly peakRssBytes: number
  readonly maxRssBytes: number
  readonly commits?: [number, number, number][]
  /** CPU time (user + system) the worker used during the measured interval. */
  readonly cpuMs: number
  /** Date.now() at the group join and at the end of the measured interval (the drain's `ms` lies between). */
  readonly startedAt: number
  readonly finishedAt: number
  /** pipeline only: the main thread's garbage collections during the measured interval (bench/gc-summary.ts). */
  readonly gc?: GcSummary
  /** rebuild only: what the shadow generation held at the end, inspected before the rebuild was aborted. */
  readonly shadow?: Found
}

export type ServerKind = 'producer' | 'noop' | 'api' | 'constant'

export interface ServerRequest {
  readonly kind: ServerKind
  readonly logLevel: string
  readonly topic?: string
  readonly partitions?: number
  readonly databaseUrl?: string
}

export type WorkerMessage =
  | { type: 'joined' }
  | { type: 'assigned'; partitions: number[] }
  | { type: 'committed'; partition: number; offset: number }
  | { type: 'stop' }
  | { type: 'progress'; handled: number }
  | { type: 'end'; endOffsets: Record<string, number> }
  | { type: 'result'; result: DrainResult }
  | { type: 'listening'; url: string }
  | { type: 'failed'; message: string }
