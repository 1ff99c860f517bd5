// The projection rebuild's fill in a process of its own (so its CPU and memory are its own, as the drain's are),
// driven by bench/main.ts over IPC like bench/workers/drain.ts. It builds the rebuild as `pipeline rebuild start`
// does (rebuildsFromConfig over the configured store), starts one, and fills its PostgreSQL shadow generation from
// the pre-filled topic. The clock runs from the call of fill (its group's join included: the fill has no other
// start an operator sees) to the commit that covers the end offsets, and stops only when the shadow holds no
// pending event. Then the shadow's rows are counted for the parent's check and the rebuild is aborted, which
// drops the shadow and the rebuild's groups; the rebuild's Redis keys are deleted last.
import { Redis } from 'ioredis'
import { createLogger } from '../../src/observability/index.ts'
import { rebuildsFromConfig } from '../../src/rebuild/index.ts'
import { companionPrefixOf, pauseKeys } from '../../src/redis/keys.ts'
import { createGenerations, createStore } from '../../src/store/index.ts'
import { generationUrl, inspectPostgres } from '../databases.ts'
import { CommitWatch, configOf, noPendingLeft, rssPeak } from './observe.ts'
import type { DrainRequest, DrainResult, WorkerMessage } from './protocol.ts'

const request = JSON.parse(process.argv[2] ?? '{}') as DrainRequest
const send = (message: WorkerMessage) => process.send?.(message)

const watch = new CommitWatch(request.topic)
const peakRss = rssPeak()
const end = request.endOffsets ?? {}

async function rebuild(): Promise<DrainResult> {
  const config = configOf(request)
  const live = await createStore(config.database)
  await live.migrate()
  const generations = await createGenerations(config.database)
  const logger = createLogger(config.logLevel, 'rebuild')
  const built = rebuildsFromConfig(config, { generations, live, logger })
  const { rebuilds } = built
  try {
    const { generation } = await rebuilds.start({ by: 'bench' })
    if (generation === null) throw new Error('the rebuild started without a generation')
    const stop = new AbortController()
    const done = new Promise<void>(resolve => {
      watch.onCommit = () => {
        if (watch.reached(end)) resolve()
      }
    })
    const cpuBefore = process.cpuUsage()
    const startedAt = Date.now()
    send({ type: 'joined' })
    const filling = rebuilds.fill(stop.signal)
    // A fill that fails ends the wait too: its error is the run's.
    await Promise.race([done, filling.then(f => Promise.reject(new Error(`the fill ended early: ${f.state}`)))])
    const progress = setInterval(() => send({ type: 'progress', handled: watch.total() }), 500)
    const shadow = await generations.open(generation)
    const pending = await noPendingLeft(shadow)
    const finishedAt = Date.now()
    const used = process.cpuUsage(cpuBefore)
    clearInterval(progress)
    await shadow.close()
    stop.abort()
    const ended = await filling
    const url = config.database.engine === 'postgres' ? config.database.url : request.databaseUrl
    const found = await inspectPostgres(generationUrl(url, generation), true)
    await rebuilds.abort({ by: 'bench' })
    return {
      handled: watch.total(),
      ms: finishedAt - startedAt,
      deadLettered: ended.badRecords.count,
      pendingAtEnd: pending,
      batches: 0,
      peakRssBytes: peakRss(),
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      cpuMs: (used.user + used.system) / 1000,
      startedAt,
      finishedAt,
      shadow: found,
    }
  } finally {
    await built.close()
    await generations.close()
    await live.close()
    await forgetRedisKeys(request.dlqKey, request.groupId, request.topic)
  }
}

/** Deletes the rebuild's hash, lease and audit (companions of the DLQ key) and the live group's pause board. */
async function forgetRedisKeys(dlqKey: string, groupId: string, topic: string): Promise<void> {
  const [host, port] = (process.env['REDIS_ADDR'] ?? '127.0.0.1:6379').split(':')
  const redis = new Redis({ host, port: Number(port), password: process.env['REDIS_PASSWORD'] || undefined })
  try {
    const keys: string[] = [dlqKey, ...Object.values(pauseKeys(groupId, topic))]
    // The prefix is this run's own (a unique DLQ key), so every key it matches is one this worker made.
    const pattern = `${companionPrefixOf(dlqKey).replace(/[*?[\]\\{}]/g, c => `\\${c}`)}*`
    let cursor = '0'
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
      cursor = next
      keys.push(...found)
    } while (cursor !== '0')
    await redis.del(...keys)
  } finally {
    redis.disconnect()
  }
}

try {
  const result = await rebuild()
  send({ type: 'result', result })
  process.disconnect?.()
} catch (error) {
  send({ type: 'failed', message: (error as Error).stack ?? String(error) })
  process.exitCode = 1
  process.disconnect?.()
}
// Whatever a library still holds open must not keep the worker alive.
setTimeout(() => process.exit(), 2000).unref()
