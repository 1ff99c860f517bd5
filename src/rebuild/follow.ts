// Runs the live consumer's code (ConsumerService: same batches, same rules, same store code) under a group of the
// rebuild's own, into a store of its choosing, until told to stop. The rebuild uses it to fill the shadow, to
// bring the shadow up to the live tables before a swap, and to close the gap a swap or a rollback leaves.
import { Registry } from 'prom-client'
import { pause } from '../async.ts'
import {
  type ConsumerService,
  type ConsumerSettings,
  createConsumerService,
  type DeadLetterSink,
} from '../consumer/index.ts'
import { commitGroupOffsets } from '../kafka/index.ts'
import { consumerMetrics, type Logger } from '../observability/index.ts'
import type { Store } from '../store/index.ts'

export interface FollowOptions {
  readonly settings: ConsumerSettings
  readonly group: string
  readonly store: Store
  readonly sink: DeadLetterSink
  readonly logger: Logger
  /**
   * Where the group starts (next offset per partition), committed for it before it joins; absent: where the group
   * committed last (a new group starts at the earliest record).
   */
  readonly startAt?: ReadonlyMap<number, bigint>
}

/** A consumer of the rebuild's: started by follow(), stopped by its close(). */
export interface Follower {
  readonly service: ConsumerService
  close(): Promise<void>
}

export async function follow(options: FollowOptions): Promise<Follower> {
  const { settings, group, store, sink, logger, startAt } = options
  if (startAt !== undefined && startAt.size > 0) {
    await commitGroupOffsets(settings.connection, group, settings.topic, startAt)
  }
  const service = createConsumerService({
    ...settings,
    groupId: group,
    store,
    dlq: sink,
    logger,
    // Its own registry: the rebuild's batches are not the live consumer's, and its gauges would fight the live ones.
    metrics: consumerMetrics(new Registry()),
  })
  await service.start()
  return { service, close: () => service.close() }
}

/**
 * Calls `done` every `everyMs` until it answers true (resolves true), the signal aborts or `timeoutMs` passes
 * (resolves false).
 */
export async function until(
  done: () => Promise<boolean>,
  options: { everyMs: number; timeoutMs: number; signal?: AbortSignal },
): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs
  while (options.signal?.aborted !== true) {
    if (await done()) return true
    if (Date.now() >= deadline) return false
    if (!(await pause(options.everyMs, options.signal))) return false
  }
  return false
}

/**
 * The store with its marks seen as `marks`: a consumer closing a gap in a store that another consumer writes
 * ahead of it must not skip the gap's records because that consumer's marks passed them (the processor skips
 * records at or below the marks it first reads). Every other call goes to the store itself.
 */
export function withMarks(store: Store, marks: ReadonlyMap<number, bigint>): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'handledThrough') return async () => new Map(marks)
      const value = Reflect.get(target, property, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}
