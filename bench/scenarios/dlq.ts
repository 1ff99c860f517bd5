// dlq: the dead-letter queue at a million entries (--dlq-entries, 100,000 with --quick), a tenth of them under one
// eventId spread evenly among the rest (an attacker repeating one eventId), through the real createRedisDlq on a
// private redis-server (bench/redis-server.ts). In order: the pushes (first and last tenth: cost per entry must
// not grow with the list), Redis's memory per entry, lookups by eventId (first page, a deep page, a cold
// eventId), a rebuild of the index, then the purge of the repeated eventId (pages of the index, removals in
// batches of 500), whose cost depends on where the entries are in the list (see dlq-removal.ts). How long each
// single command held Redis is read from Redis's SLOWLOG, which logs every command here.
import { createRedisDlq, type DeadLetterQueue, defaultConsumerCaps } from '../../src/dlq/index.ts'
import { luaScript } from '../../src/redis/scripts.ts'
import type { Context } from '../context.ts'
import { coldEventId, hotEventId, isHot, type LetterPlan, letterOf } from '../dlq-letters.ts'
import { type LoggedCommand, type PrivateRedis, startPrivateRedis } from '../redis-server.ts'
import type { MeasurementDefinition } from '../report.ts'
import { median, percentile } from '../stats.ts'
import { removal, removalMeasurements } from './dlq-removal.ts'

/** Records per push: a consumer batch's dead letters, one script call (the DLQ's chunk is 500 too). */
const pushSize = 500
const lookupCalls = 200
const pageSize = 50
/** The key the pipeline uses by default (DLQ_KEY): companion keys are named after it. */
const key = 'dlq:events'
/**
 * One command holding Redis longer than this stalls every other client (the producers' and the consumers'
 * pushes) past a normal request's p99: the run reports it as a problem.
 */
export const longCommandMs = 100

export const measurements = (): MeasurementDefinition[] => [
  { id: 'dlq.push.first', label: 'DLQ push, first 10 % of the pushes', unit: 'µs/entry', digits: 1 },
  {
    id: 'dlq.push.last',
    label: 'DLQ push, last 10 % of the pushes',
    unit: 'µs/entry',
    digits: 1,
    compareTo: [{ id: 'dlq.push.first', kind: 'reference' }],
    note: 'must stay ≈ 1× of the first tenth: a push must not cost more as the list grows',
  },
  { id: 'dlq.push.longest', label: 'DLQ push, longest script call (SLOWLOG)', unit: 'ms', digits: 1 },
  {
    id: 'dlq.memory',
    label: 'DLQ Redis memory per entry (used_memory)',
    unit: 'bytes',
    note: 'used_memory after the pushes minus before, per entry; extras: the list, the seen-set and the entry itself',
  },
  {
    id: 'dlq.memory.rebuilt',
    label: 'DLQ Redis memory per entry right after a rebuild',
    unit: 'bytes',
    compareTo: [{ id: 'dlq.memory', kind: 'reference' }],
    note: 'the abandoned generation of the index is deleted a few sets per later push',
  },
  { id: 'dlq.lookup.hot', label: 'DLQ eventPage, repeated eventId, first page', unit: 'µs' },
  { id: 'dlq.lookup.deep', label: 'DLQ eventPage, repeated eventId, middle page', unit: 'µs' },
  { id: 'dlq.lookup.cold', label: 'DLQ eventPage, an eventId with one entry', unit: 'µs' },
  { id: 'dlq.rebuild', label: 'DLQ reindex() of the whole list', unit: 's', digits: 1 },
  { id: 'dlq.rebuild.step', label: 'DLQ reindex(), longest step (SLOWLOG)', unit: 'ms', digits: 1 },
  ...removalMeasurements(),
  { id: 'dlq.longest', label: 'DLQ longest single command of the run (SLOWLOG)', unit: 'ms', digits: 1 },
]

/** Every command the DLQ sent, by phase, as SLOWLOG timed it on the server. */
export class CommandLog {
  readonly #redis: PrivateRedis
  readonly #phases = new Map<string, LoggedCommand[]>()

  constructor(redis: PrivateRedis) {
    this.#redis = redis
  }

  /** Reads what was logged since the last call into `phase`; returns it. */
  async take(phase: string): Promise<LoggedCommand[]> {
    const got = await this.#redis.drainSlowlog()
    const list = this.#phases.get(phase) ?? []
    for (const command of got) list.push(command)
    this.#phases.set(phase, list)
    return got
  }

  of(phase: string, name?: string): LoggedCommand[] {
    return (this.#phases.get(phase) ?? []).filter(c => name === undefined || c.name === name)
  }

  /** The longest command of the whole run, with its phase. */
  longest(): { phase: string; command: LoggedCommand } | undefined {
    let found: { phase: string; command: LoggedCommand } | undefined
    for (const [phase, list] of this.#phases) {
      for (const command of list)
        if (found === undefined || command.micros > found.command.micros) found = { phase, command }
    }
    return found
  }
}

const longestMs = (commands: readonly LoggedCommand[]) => Math.max(0, ...commands.map(c => c.micros)) / 1000

export async function run(ctx: Context): Promise<void> {
  const entries = ctx.settings.dlqEntries
  const plan: LetterPlan = { entries, hot: Math.floor(entries / 10) }
  const redis = await startPrivateRedis({
    push: luaScript('dlq-push'),
    remove: luaScript('dlq-remove'),
    rebuild: luaScript('dlq-rebuild-step'),
    page: luaScript('dlq-page'),
  })
  ctx.say(
    `dlq: private redis-server at ${redis.addr}; ${entries.toLocaleString()} entries, ${plan.hot.toLocaleString()} under one eventId`,
  )
  const dlq = createRedisDlq({
    addr: redis.addr,
    key,
    // The bench measures long calls rather than failing on them.
    commandTimeoutMs: 120_000,
    consumerCaps: {
      maxEntries: Math.max(defaultConsumerCaps.maxEntries, entries),
      maxBytes: Math.max(defaultConsumerCaps.maxBytes, entries * 2048),
    },
  })
  const log = new CommandLog(redis)
  const began = performance.now()
  try {
    const before = await redis.usedMemory()
    await pushAll(ctx, dlq, redis, plan, log)
    await memory(ctx, dlq, redis, plan, before, 'dlq.memory')
    await lookups(ctx, dlq, plan)
    await rebuild(ctx, dlq, redis, plan, log)
    await memory(ctx, dlq, redis, plan, before, 'dlq.memory.rebuilt')
    await removal(ctx, dlq, redis, plan, log)
    const longest = log.longest()
    if (longest !== undefined) {
      const ms = longest.command.micros / 1000
      ctx.results.add('dlq.longest', ms)
      ctx.say(`dlq: the longest single command was ${longest.command.name} in ${longest.phase}: ${ms.toFixed(1)} ms`)
      if (ms > longCommandMs) {
        ctx.problem(`dlq: one ${longest.command.name} call (${longest.phase}) held Redis for ${ms.toFixed(0)} ms`)
      }
    }
    ctx.say(`dlq: done in ${((performance.now() - began) / 1000).toFixed(0)} s`)
  } finally {
    await dlq.close()
    await redis.stop()
  }
}

/** µs per entry of the pushes in [from, to), from the per-push times (every push the same size but the last). */
function usPerEntry(times: readonly { us: number; n: number }[], from: number, to: number): number {
  const part = times.slice(from, to)
  return part.reduce((s, t) => s + t.us, 0) / part.reduce((s, t) => s + t.n, 0)
}

async function pushAll(
  ctx: Context,
  dlq: DeadLetterQueue,
  redis: PrivateRedis,
  plan: LetterPlan,
  log: CommandLog,
): Promise<void> {
  const pushes = Math.ceil(plan.entries / pushSize)
  const times: { us: number; n: number }[] = []
  const began = performance.now()
  const tenth = Math.max(1, Math.floor(pushes / 10))
  /** Redis's CPU (ms) at the start of the pushes, after the first tenth, before the last tenth, at the end. */
  const cpu = [redis.cpuMs()]
  for (let p = 0; p < pushes; p++) {
    const letters = []
    for (let n = p * pushSize; n < Math.min(plan.entries, (p + 1) * pushSize); n++) letters.push(letterOf(plan, n))
    const started = performance.now()
    const outcome = await dlq.push(letters)
    times.push({ us: (performance.now() - started) * 1000, n: letters.length })
    if (p === tenth - 1 || p === pushes - tenth - 1) cpu.push(redis.cpuMs())
    if (outcome.pushed !== letters.length) ctx.problem(`dlq: push ${p} stored ${outcome.pushed} of ${letters.length}`)
    if (p % 20 === 19 || p === pushes - 1) {
      await log.take('push')
      ctx.status(`dlq: pushed ${((p + 1) * pushSize).toLocaleString()} entries`)
    }
  }
  const seconds = (performance.now() - began) / 1000
  cpu.push(redis.cpuMs())
  const tenthEntries = tenth * pushSize
  const cpuUs = [((cpu[1]! - cpu[0]!) * 1000) / tenthEntries, ((cpu[3]! - cpu[2]!) * 1000) / tenthEntries]
  const script = log.of('push', 'script:push')
  const serverUs = (from: number, to: number) =>
    script.slice(from, to).reduce((s, c) => s + c.micros, 0) / (pushSize * script.slice(from, to).length)
  const perPushMs = (from: number, to: number) => times.slice(from, to).map(t => t.us / 1000)
  for (const [id, from, to, cpuUsPerEntry] of [
    ['dlq.push.first', 0, tenth, cpuUs[0]],
    ['dlq.push.last', pushes - tenth, pushes, cpuUs[1]],
  ] as const) {
    const ms = perPushMs(from, to)
    ctx.results.add(id, usPerEntry(times, from, to), {
      // The table's CPU column: here Redis's CPU per entry.
      cpuUsPerEvent: cpuUsPerEntry ?? Number.NaN,
      p50Ms: median(ms),
      p99Ms: percentile(ms, 99),
      serverUsPerEntry: serverUs(from, to),
    })
  }
  ctx.results.add('dlq.push.longest', longestMs(script))
  const usage = await dlq.usage()
  if (usage.consumer.entries !== plan.entries || (await dlq.length()) !== plan.entries) {
    ctx.problem(`dlq: after the pushes the DLQ counts ${usage.consumer.entries} entries, not ${plan.entries}`)
  }
  ctx.say(
    `dlq: pushed ${plan.entries.toLocaleString()} entries in ${seconds.toFixed(1)} s; µs/entry first tenth ` +
      `${usPerEntry(times, 0, tenth).toFixed(1)}, last tenth ${usPerEntry(times, pushes - tenth, pushes).toFixed(1)}` +
      ` (scripts' own time ${serverUs(0, tenth).toFixed(1)} → ${serverUs(pushes - tenth, pushes).toFixed(1)}, ` +
      `Redis CPU ${cpuUs[0]?.toFixed(1)} → ${cpuUs[1]?.toFixed(1)})`,
  )
}

async function memory(
  ctx: Context,
  dlq: DeadLetterQueue,
  redis: PrivateRedis,
  plan: LetterPlan,
  before: number,
  id: 'dlq.memory' | 'dlq.memory.rebuilt',
): Promise<void> {
  const used = await redis.usedMemory()
  const keys = await redis.admin.dbsize()
  const perEntry = (bytes: number | null) => (bytes ?? Number.NaN) / plan.entries
  const usage = await dlq.usage()
  const extra: Record<string, number> = { keys, entryBytes: usage.consumer.bytes / plan.entries }
  if (id === 'dlq.memory') {
    // MEMORY USAGE … SAMPLES 0 walks the whole key: a bench-only cost, on the bench's own connection.
    extra['listBytesPerEntry'] = perEntry(await redis.admin.memory('USAGE', key, 'SAMPLES', 0))
    extra['seenBytesPerEntry'] = perEntry(await redis.admin.memory('USAGE', `{${key}}:seen`, 'SAMPLES', 0))
  }
  ctx.results.add(id, (used - before) / plan.entries, extra)
  ctx.say(
    `dlq: used_memory ${(used / 2 ** 20).toFixed(0)} MiB, ${((used - before) / plan.entries).toFixed(0)} bytes/entry ` +
      `(${Object.entries(extra)
        .map(([k, v]) => `${k} ${v.toFixed(0)}`)
        .join(', ')})`,
  )
}

/** Latencies (ms) of `calls` sequential calls. */
async function timed(calls: number, call: (i: number) => Promise<void>): Promise<number[]> {
  const ms: number[] = []
  for (let i = 0; i < calls; i++) {
    const started = performance.now()
    await call(i)
    ms.push(performance.now() - started)
  }
  return ms
}

async function lookups(ctx: Context, dlq: DeadLetterQueue, plan: LetterPlan): Promise<void> {
  const expectPage = (what: string, page: Awaited<ReturnType<DeadLetterQueue['eventPage']>>, total: number) => {
    if (page.total !== total || page.entries.length !== Math.min(pageSize, total)) {
      ctx.problem(`dlq: ${what} answered ${page.entries.length} of ${page.total} entries, not of ${total}`)
    }
  }
  // The cursor of the page in the middle of the repeated eventId's entries, reached by following cursors.
  let deep: string | undefined
  for (let p = 0; p < Math.floor(plan.hot / pageSize / 2); p++) {
    deep = (await dlq.eventPage(hotEventId, pageSize, deep)).next ?? undefined
  }
  const coldIds: string[] = []
  for (let i = 0; coldIds.length < lookupCalls; i++) {
    const n = Math.floor((i * plan.entries) / lookupCalls) + (i % 7)
    if (n < plan.entries && !isHot(plan, n)) coldIds.push(coldEventId(n))
  }
  const runs = {
    'dlq.lookup.hot': await timed(lookupCalls, async () =>
      expectPage('the first page', await dlq.eventPage(hotEventId, pageSize), plan.hot),
    ),
    'dlq.lookup.deep': await timed(lookupCalls, async () =>
      expectPage('a middle page', await dlq.eventPage(hotEventId, pageSize, deep), plan.hot),
    ),
    'dlq.lookup.cold': await timed(lookupCalls, async i =>
      expectPage('a cold eventId', await dlq.eventPage(coldIds[i] as string, pageSize), 1),
    ),
  }
  for (const [id, ms] of Object.entries(runs)) {
    ctx.results.add(id, median(ms) * 1000, { p50Ms: median(ms), p99Ms: percentile(ms, 99) })
    ctx.say(`dlq: ${id} p50 ${median(ms).toFixed(2)} ms, p99 ${percentile(ms, 99).toFixed(2)} ms`)
  }
}

async function rebuild(
  ctx: Context,
  dlq: DeadLetterQueue,
  redis: PrivateRedis,
  plan: LetterPlan,
  log: CommandLog,
): Promise<void> {
  await log.take('before rebuild')
  const started = performance.now()
  const cpuBefore = redis.cpuMs()
  const length = await dlq.reindex()
  const seconds = (performance.now() - started) / 1000
  const cpuSeconds = (redis.cpuMs() - cpuBefore) / 1000
  await log.take('rebuild')
  const steps = log.of('rebuild', 'script:rebuild').map(c => c.micros / 1000)
  ctx.results.add('dlq.rebuild', seconds, { steps: steps.length, redisCpuSeconds: cpuSeconds })
  ctx.results.add('dlq.rebuild.step', Math.max(0, ...steps), {
    p50Ms: median(steps),
    p99Ms: percentile(steps, 99),
    scriptSeconds: steps.reduce((s, ms) => s + ms, 0) / 1000,
  })
  const usage = await dlq.usage()
  if (length !== plan.entries || !usage.indexed || usage.consumer.entries !== plan.entries) {
    ctx.problem(`dlq: the rebuild walked ${length} entries and counts ${usage.consumer.entries}, not ${plan.entries}`)
  }
  ctx.say(
    `dlq: reindex() of ${length.toLocaleString()} entries in ${seconds.toFixed(1)} s (Redis CPU ` +
      `${cpuSeconds.toFixed(1)} s), ${steps.length} steps, ` +
      `longest ${Math.max(0, ...steps).toFixed(1)} ms, median ${median(steps).toFixed(1)} ms`,
  )
}
