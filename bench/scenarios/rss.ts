// rss: the consumer's memory on a long drain (--rss-events, 1,000,000 by default, none with --quick), started
// the way production starts it: compiled by scripts/build.ts (as `npm run build` compiles the container's
// dist/main.js), with the Node flags the pipeline ships with, and for comparison with other heap flags. The drain
// worker itself is bundled with the role, so no module of the process is type-stripped at load.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildApp } from '../../scripts/build.ts'
import { nodeFlags } from '../../src/cli/node-flags.ts'
import type { Context, Options } from '../context.ts'
import { dropPostgresDatabases, inspectPostgres } from '../databases.ts'
import type { MeasurementDefinition } from '../report.ts'
import { generateWorkload, type Workload } from '../workload.ts'
import { check, drain, drainRequest, endOffsets } from './shared.ts'

/** How the other variant starts the consumer, in words: its flags, or Node's own heap sizing when none. */
function otherLabel(options: Options): string {
  return options.otherHeapFlags.length > 0 ? options.otherHeapFlags.join(' ') : "Node's default heap sizing"
}

export const measurements = (options: Options): MeasurementDefinition[] => [
  { id: 'rss.drain', label: 'consumer peak RSS, large drain', unit: 'MB' },
  {
    id: 'rss.drain.other',
    label: 'consumer peak RSS, large drain, other heap flags',
    unit: 'MB',
    note: `the same drain with ${otherLabel(options)} instead of ${nodeFlags.join(' ')} (see docs/performance.md)`,
  },
  // Measured by the drain scenario, on the main drain's workload.
  { id: 'rss.main', label: 'consumer peak RSS, main drain', unit: 'MB' },
]

/** The workers' Node flags with the pipeline's heap flags replaced by the other variant's. */
function otherExecArgv(options: Options): string[] {
  return [...(options.spawnOptions.execArgv ?? []).filter(flag => !nodeFlags.includes(flag)), ...options.otherHeapFlags]
}

export async function run(ctx: Context): Promise<void> {
  const { settings } = ctx
  if (settings.rssEvents <= 0) return
  ctx.say(`generating ${settings.rssEvents.toLocaleString()} events for the memory check`)
  const big = generateWorkload({ events: settings.rssEvents, partitions: settings.partitions, seed: 7 })
  const topic = await ctx.freshTopic(big)
  // Outside the repository, as in the image: no node_modules above the app for a dependency to find at run time
  // (@platformatic/kafka then takes its WebAssembly CRC32C, as the image does, not the optional native one).
  const app = mkdtempSync(join(tmpdir(), 'pipeline-bench-app-'))
  await buildApp(app, { drain: 'bench/workers/drain.ts' })
  const drainWorker = join(app, 'dist', 'drain.js')
  try {
    await drainAll(ctx, big, topic, drainWorker)
  } finally {
    rmSync(app, { recursive: true, force: true })
  }
}

async function drainAll(ctx: Context, big: Workload, topic: string, drainWorker: string): Promise<void> {
  const { settings, options } = ctx
  const variants = [
    { id: 'rss.drain', execArgv: options.spawnOptions.execArgv ?? [], label: '' },
    { id: 'rss.drain.other', execArgv: otherExecArgv(options), label: ` (${otherLabel(options)})` },
  ]
  for (let round = 1; round <= settings.runs; round++) {
    for (const variant of variants) {
      const url = await ctx.freshPostgres()
      const spawnOptions = { ...options.spawnOptions, execArgv: variant.execArgv, drainWorker }
      const label = `large drain → PostgreSQL${variant.label} ${round}`
      const request = drainRequest(ctx, topic, url, { endOffsets: endOffsets(big) })
      const result = await drain(ctx, label, request, big.records.length, spawnOptions)
      ctx.results.add(variant.id, result.peakRssBytes / 2 ** 20, {
        maxRssMb: result.maxRssBytes / 2 ** 20,
        eventsPerSecond: (result.handled / result.ms) * 1000,
        cpuUsPerEvent: (result.cpuMs * 1000) / result.handled,
      })
      check(ctx, `${variant.id}#${round}`, big, await inspectPostgres(url, false), result)
      await dropPostgresDatabases([url.slice(url.lastIndexOf('/') + 1)])
    }
  }
}
