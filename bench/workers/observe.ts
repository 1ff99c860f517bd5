// What the drain and rebuild workers observe of their own process the same way: the offsets their acknowledged
// commits reached (on @platformatic/kafka's diagnostics channel, the instrument that tells when a record is
// "done"), their peak RSS, the configuration a request names, and when no pending event is left.
import { tracingChannel } from 'node:diagnostics_channel'
import { services } from '../../dev/services.ts'
import { type Config, loadConfig } from '../../src/config/index.ts'
import type { Store } from '../../src/store/index.ts'
import type { DrainRequest } from './protocol.ts'

interface CommitContext {
  options?: { offsets?: { topic: string; partition: number; offset: bigint }[] }
  error?: unknown
}

/** The commits of `topic`: per partition the offset they reached, and a hook run after each acknowledged one. */
export class CommitWatch {
  readonly committed = new Map<number, number>()
  /** Run after every acknowledged commit of the topic, once its offsets are counted. */
  onCommit: (() => void) | undefined

  /** `each` sees every offset of every acknowledged commit, with the time it was acknowledged. */
  constructor(topic: string, each?: (at: number, partition: number, offset: number) => void) {
    tracingChannel('plt:kafka:consumer:commits').subscribe({
      start() {},
      end() {},
      asyncStart: (message: unknown) => {
        const context = message as CommitContext
        if (context.error !== undefined) return
        const at = Date.now()
        for (const o of context.options?.offsets ?? []) {
          if (o.topic !== topic) continue
          const offset = Number(o.offset)
          if ((this.committed.get(o.partition) ?? -1) < offset) this.committed.set(o.partition, offset)
          each?.(at, o.partition, offset)
        }
        this.onCommit?.()
      },
      asyncEnd() {},
      error() {},
    })
  }

  /** Records committed, summed over the partitions. */
  total(): number {
    let n = 0
    for (const v of this.committed.values()) n += v
    return n
  }

  /** Whether every partition of `end` has been committed up to its offset. */
  reached(end: Record<string, number>): boolean {
    return Object.entries(end).every(([partition, offset]) => (this.committed.get(Number(partition)) ?? 0) >= offset)
  }
}

/** The largest RSS seen by sampling every 100 ms, from now on (the sampler does not hold the process open). */
export function rssPeak(): () => number {
  let peak = 0
  setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss())
  }, 100).unref()
  return () => peak
}

/** The configuration `pipeline consumer` would load with the request's topic, group, database and DLQ key. */
export function configOf(request: DrainRequest): Config {
  return loadConfig({
    ...process.env,
    KAFKA_BROKERS: services.kafkaBrokers.join(','),
    KAFKA_TOPIC: request.topic,
    KAFKA_GROUP_ID: request.groupId,
    KAFKA_PARTITIONS: String(request.partitions),
    DATABASE_URL: request.databaseUrl,
    DLQ_KEY: request.dlqKey,
    LOG_LEVEL: request.logLevel,
  })
}

/**
 * Drained means every record stored: an order whose user another lane stored at the same moment waits as a
 * pending event until the consumer's next look (within tens of milliseconds), so the clock stops only when no
 * pending event is left (the workload's orders all have their users). Resolves with the pending events left after
 * 5 s of looking (0 when drained).
 */
export async function noPendingLeft(store: Pick<Store, 'pendingStats'>): Promise<number> {
  let pending = (await store.pendingStats()).count
  for (let i = 0; pending > 0 && i < 500; i++) {
    await new Promise(resolve => setTimeout(resolve, 10))
    pending = (await store.pendingStats()).count
  }
  return pending
}
