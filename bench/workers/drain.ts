// A consumer in a process of its own (so its CPU, memory and GC are its own), driven by bench/main.ts over IPC.
//   pipeline  the consumer role (src/roles), built as `pipeline consumer` builds it; its HTTP app is not listened on
//   naive     the record-at-a-time baseline of bench/naive-consumer.ts
// Offset commits are observed on @platformatic/kafka's diagnostics channel, so the time a record is "done" is
// the time its offset commit was acknowledged, the same instrument for both consumers.
import { GCProfiler } from 'node:v8'
import { services } from '../../dev/services.ts'
import { createConsumerRole } from '../../src/roles/index.ts'
import { createStore } from '../../src/store/index.ts'
import { summariseGc } from '../gc-summary.ts'
import { runNaiveConsumer } from '../naive-consumer.ts'
import { CommitWatch, configOf, noPendingLeft, rssPeak } from './observe.ts'
import type { DrainRequest, DrainResult, WorkerMessage } from './protocol.ts'

const request = JSON.parse(process.argv[2] ?? '{}') as DrainRequest
const send = (message: WorkerMessage) => process.send?.(message)

/** One acknowledged commit: when, and the offset it moved each partition to. */
const commits: [number, number, number][] = []
const watch = new CommitWatch(request.topic, (at, partition, offset) => {
  if (request.recordCommits) commits.push([at, partition, offset])
  if (request.member) send({ type: 'committed', partition, offset })
})
const peakRss = rssPeak()

function cpuMsSince(before: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(before)
  return (used.user + used.system) / 1000
}

/** Resolves with Date.now() of the commit that covered `end`, whenever `end` becomes known. */
function whenCommitted(end: () => Record<string, number> | undefined): Promise<number> {
  return new Promise(resolve => {
    const check = () => {
      const target = end()
      if (target !== undefined && watch.reached(target)) {
        watch.onCommit = undefined
        resolve(Date.now())
      }
    }
    watch.onCommit = check
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
    watch.onCommit?.()
  } else if (message.type === 'stop') stop()
})

async function pipeline(): Promise<DrainResult> {
  const role = await createConsumerRole(configOf(request))
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
  const gcProfiler = new GCProfiler()
  gcProfiler.start()
  send({ type: 'joined' })
  const progress = setInterval(() => send({ type: 'progress', handled: watch.total() }), 500)
  await done
  const pending = await noPendingLeft(role.store)
  const finished = Date.now()
  const cpuMs = cpuMsSince(cpuBefore)
  const gc = summariseGc(gcProfiler.stop().statistics)
  clearInterval(progress)
  clearInterval(assignment)
  const status = service.status()
  // The consumer drains (commits, leaves the group) before the DLQ is counted; the DLQ closes after.
  await role.drain()
  const deadLettered = await role.dlq.length()
  await role.close()
  return {
    handled: watch.total(),
    ms: finished - started,
    deadLettered,
    pendingAtEnd: pending,
    batches: status.batches,
    peakRssBytes: peakRss(),
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    commits: request.recordCommits ? commits : undefined,
    cpuMs,
    gc,
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
    peakRssBytes: peakRss(),
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    cpuMs: cpuMsSince(cpuBefore),
    startedAt,
    finishedAt: startedAt + result.ms,
  }
}

try {
  const result = request.kind === 'naive' ? await naive() : await pipeline()
  send({ type: 'result', result })
  process.disconnect?.()
} catch (error) {
  send({ type: 'failed', message: (error as Error).stack ?? String(error) })
  process.exitCode = 1
  process.disconnect?.()
}
// Whatever a library still holds open must not keep the worker alive.
setTimeout(() => process.exit(), 2000).unref()
