// A consumer in a process of its own (so its CPU, memory and GC are its own), driven by bench/main.ts over IPC.
//   pipeline  the consumer role (src/roles), built as `pipeline consumer` builds it; its HTTP app is not listened on
//   naive     the seed-style baseline of bench/naive-consumer.ts
// Offset commits are observed on @platformatic/kafka's diagnostics channel, so the time a record is "done" is
// the time its offset commit was acknowledged, the same instrument for both consumers.
import { tracingChannel } from 'node:diagnostics_channel'
import { services } from '../../dev/services.ts'
import { loadConfig } from '../../src/config/index.ts'
import { createConsumerRole } from '../../src/roles/index.ts'
import { createStore } from '../../src/store/index.ts'
import { runNaiveConsumer } from '../naive-consumer.ts'
import type { DrainRequest, DrainResult, WorkerMessage } from './protocol.ts'

const request = JSON.parse(process.argv[2] ?? '{}') as DrainRequest
const send = (message: WorkerMessage) => process.send?.(message)

/** One acknowledged commit: when, and the offset it moved each partition to. */
const commits: [number, number, number][] = []
const committed = new Map<number, number>()
let onCommit: (() => void) | undefined

interface CommitContext {
  options?: { offsets?: { topic: string; partition: number; offset: bigint }[] }
  error?: unknown
}
tracingChannel('plt:kafka:consumer:commits').subscribe({
  start() {},
  end() {},
  asyncStart(message: unknown) {
    const context = message as CommitContext
    if (context.error !== undefined) return
    const at = Date.now()
    for (const o of context.options?.offsets ?? []) {
      if (o.topic !== request.topic) continue
      const offset = Number(o.offset)
      if ((committed.get(o.partition) ?? -1) < offset) committed.set(o.partition, offset)
      if (request.recordCommits) commits.push([at, o.partition, offset])
      if (request.member) send({ type: 'committed', partition: o.partition, offset })
    }
    onCommit?.()
  },
  asyncEnd() {},
  error() {},
})

let peakRss = 0
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss())
}, 100)

function cpuMsSince(before: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(before)
  return (used.user + used.system) / 1000
}

function committedTotal(): number {
  let n = 0
  for (const v of committed.values()) n += v
  return n
}

function reached(end: Record<string, number>): boolean {
  return Object.entries(end).every(([partition, offset]) => (committed.get(Number(partition)) ?? 0) >= offset)
}

/** Resolves with Date.now() of the commit that covered `end`, whenever `end` becomes known. */
function whenCommitted(end: () => Record<string, number> | undefined): Promise<number> {
  return new Promise(resolve => {
    const check = () => {
      const target = end()
      if (target !== undefined && reached(target)) {
        onCommit = undefined
        resolve(Date.now())
      }
    }
    onCommit = check
    check()
  })
}

let endOffsets = request.endOffsets
let stop: () => void = () => {}
const stopped = new Promise<number>(resolve => {
  stop = () => resolve(Date.now())
})
process.on('message', (message: WorkerMessage) => {
  if (message.type === 'end') {
    endOffsets = message.endOffsets
    onCommit?.()
  } else if (message.type === 'stop') stop()
})

async function pipeline(): Promise<DrainResult> {
  const config = loadConfig({
    ...process.env,
    KAFKA_BROKERS: services.kafkaBrokers.join(','),
    KAFKA_TOPIC: request.topic,
    KAFKA_GROUP_ID: request.groupId,
    KAFKA_PARTITIONS: String(request.partitions),
    DATABASE_URL: request.databaseUrl,
    DLQ_KEY: request.dlqKey,
    LOG_LEVEL: request.logLevel,
  })
  const role = await createConsumerRole(config)
  const { service } = role
  const done = request.member ? stopped : whenCommitted(() => endOffsets)
  await role.start()
  // A member tells which partitions it owns whenever that changes, so the parent can wait for a settled group.
  let owned = ''
  const assignment = request.member
    ? setInterval(() => {
        const partitions = service.status().partitions ?? []
        if (partitions.join() === owned) return
        owned = partitions.join()
        send({ type: 'assigned', partitions })
      }, 20)
    : undefined
  while (!service.status().joined) await new Promise(resolve => setTimeout(resolve, 2))
  const started = Date.now()
  const cpuBefore = process.cpuUsage()
  send({ type: 'joined' })
  const progress = setInterval(() => send({ type: 'progress', handled: committedTotal() }), 500)
  await done
  // Drained means every record stored: an order whose user another lane stored at the same moment waits as a
  // pending event until the consumer's next look (within tens of milliseconds), so the clock stops only when no
  // pending event is left (the workload's orders all have their users).
  let pending = (await role.store.pendingStats()).count
  for (let i = 0; pending > 0 && i < 500; i++) {
    await new Promise(resolve => setTimeout(resolve, 10))
    pending = (await role.store.pendingStats()).count
  }
  const finished = Date.now()
  const cpuMs = cpuMsSince(cpuBefore)
  clearInterval(progress)
  clearInterval(assignment)
  const status = service.status()
  // The consumer drains (commits, leaves the group) before the DLQ is counted; the DLQ closes after.
  await role.drain()
  const deadLettered = await role.dlq.length()
  await role.close()
  return {
    handled: committedTotal(),
    ms: finished - started,
    deadLettered,
    pendingAtEnd: pending,
    batches: status.batches,
    peakRssBytes: peakRss,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    commits: request.recordCommits ? commits : undefined,
    cpuMs,
    startedAt: started,
    finishedAt: finished,
  }
}

async function naive(): Promise<DrainResult> {
  // The same schema as the pipeline's, created by the real store before the clock starts.
  const store = await createStore({ engine: 'postgres', url: request.databaseUrl })
  await store.migrate()
  await store.close()
  const cpuBefore = process.cpuUsage()
  const startedAt = Date.now()
  const result = await runNaiveConsumer({
    brokers: [...services.kafkaBrokers],
    topic: request.topic,
    groupId: request.groupId,
    databaseUrl: request.databaseUrl,
    maxRecords: request.maxRecords ?? Number.POSITIVE_INFINITY,
    maxMs: request.maxMs ?? Number.POSITIVE_INFINITY,
    onStart: () => send({ type: 'joined' }),
    onProgress: handled => send({ type: 'progress', handled }),
  })
  return {
    handled: result.handled,
    ms: result.ms,
    deadLettered: result.failed,
    pendingAtEnd: 0,
    // The naive consumer applies one record at a time.
    batches: result.handled,
    peakRssBytes: peakRss,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    cpuMs: cpuMsSince(cpuBefore),
    startedAt,
    finishedAt: startedAt + result.ms,
  }
}

try {
  const result = request.kind === 'naive' ? await naive() : await pipeline()
  clearInterval(sampler)
  send({ type: 'result', result })
  process.disconnect?.()
} catch (error) {
  send({ type: 'failed', message: (error as Error).stack ?? String(error) })
  process.exitCode = 1
  process.disconnect?.()
}
// Whatever a library still holds open must not keep the worker alive.
setTimeout(() => process.exit(), 2000).unref()
