// `npm run bench`: throughput and latency of the pipeline against its baseline and its ceilings, measured in the
// same run on the real local Kafka, PostgreSQL and SQLite. See docs/performance.md.
//
//   npm run bench                      200,000 events, 3 runs of everything, 1,000,000-event memory check,
//                                      a 1,000,000-entry dead-letter queue
//   npm run bench -- --quick           50,000 events, shorter HTTP runs, no INFO drain, no 1M memory check,
//                                      a 100,000-entry dead-letter queue
//   options: --events N  --runs N  --only drain,naive,copy,rebuild,latency,http,java,read,rss,scale,dlq  --rss-events N
//            --dlq-entries N
//            --http-seconds N  --log-level info|warn  --cpu-prof (a profile of every worker in .tmp/bench-profiles/)
//            --alloc-prof (where every worker allocates, garbage included: bench/alloc-summary.ts reads it)
//            --history (append to bench/history.tsv even from a --quick or --only run)
//   npm run bench -- --compare REF [--pairs N] [options]
//                                      the working tree against a git ref, alternated runs (bench/compare.ts)
//
// It ends with the benchmark's goals, MET, MISSED or not measured (bench/goals.ts), and a full run appends one line
// to bench/history.tsv (bench/history.ts).
//
// Each scenario is a module of bench/scenarios/ over the shared context of bench/context.ts. Everything it
// creates (topics, consumer groups, databases, SQLite files, Redis keys) is named bench-*/ep_bench_* and removed at
// the end, also when a step fails.
import { fileURLToPath } from 'node:url'
import { Context, machine, type Options, Progress, parseOptions } from './context.ts'
import { goals, goalsTable } from './goals.ts'
import { appendHistory, currentCommit, historyLine } from './history.ts'
import { perCore, perCoreTable, table, targets, targetsTable, writeJson } from './report.ts'
import * as copy from './scenarios/copy.ts'
import * as dlq from './scenarios/dlq.ts'
import * as drain from './scenarios/drain.ts'
import * as http from './scenarios/http.ts'
import * as java from './scenarios/java.ts'
import * as latency from './scenarios/latency.ts'
import * as naive from './scenarios/naive.ts'
import * as read from './scenarios/read.ts'
import * as rebuild from './scenarios/rebuild.ts'
import * as rss from './scenarios/rss.ts'
import * as scale from './scenarios/scale.ts'
import { compareProjections } from './scenarios/shared.ts'
import { generateWorkload } from './workload.ts'

const resultsDir = fileURLToPath(new URL('./results/', import.meta.url))
const historyFile = fileURLToPath(new URL('./history.tsv', import.meta.url))
// Under the git-ignored .tmp/: profiles are large and only worth keeping while they are being read.
const profilesDir = fileURLToPath(new URL('../.tmp/bench-profiles/', import.meta.url))

/** Every scenario's measurements, in the order the report lists them. */
const scenarios = [drain, naive, copy, rebuild, latency, http, java, read, rss, scale, dlq]

/**
 * The chosen scenarios, in a fixed order. drain, naive, copy and rebuild measure the same pre-filled topic and their
 * rounds are interleaved (1 of each, then 2 of each, …) so a noisy neighbour hurts every measurement alike; the
 * others run their rounds back to back, latency after the drains whose rates it offers half of.
 */
async function runScenarios(ctx: Context): Promise<void> {
  const chosen = ctx.options.scenarios
  const { runs, logLevel } = ctx.settings
  if (['drain', 'naive', 'copy', 'rebuild'].some(s => chosen.has(s)))
    ctx.workloadTopic = await ctx.freshTopic(ctx.workload)
  for (let round = 1; round <= runs; round++) {
    if (chosen.has('naive')) await naive.run(ctx, round)
    if (chosen.has('drain')) await drain.run(ctx, round, 'postgres')
    if (chosen.has('copy')) await copy.run(ctx, round)
    if (chosen.has('rebuild')) await rebuild.run(ctx, round)
    if (chosen.has('drain')) await drain.run(ctx, round, 'sqlite')
    // The INFO drain only shows what logging costs; --quick leaves it out to stay under three minutes.
    if (chosen.has('drain') && !ctx.options.quick && logLevel !== 'info') await drain.run(ctx, round, 'postgres-info')
  }
  compareProjections(ctx)
  if (chosen.has('latency')) await latency.run(ctx)
  if (chosen.has('http')) await http.run(ctx)
  // Right after the HTTP runs, so the produce ceiling meets the broker in the state POST /produce met it.
  if (chosen.has('java')) await java.run(ctx)
  if (chosen.has('read')) await read.run(ctx)
  if (chosen.has('scale')) await scale.run(ctx)
  if (chosen.has('rss')) await rss.run(ctx)
  // One run: a private Redis, no Kafka, nothing the other scenarios share; its sizes, not its rounds, matter.
  if (chosen.has('dlq')) await dlq.run(ctx)
}

/** Whether this run appends to bench/history.tsv: every full run, and any other run given --history. */
function writesHistory(options: Options): boolean {
  return options.history || (!options.quick && !options.partial)
}

function historyMode(options: Options): string {
  if (options.partial) return `only:${[...options.scenarios].join(',')}`
  return options.quick ? 'quick' : 'full'
}

/** Says what this run is on, generates the workload and declares every measurement. */
async function prepare(options: Options, progress: Progress) {
  const { settings } = options
  const startedAt = new Date().toISOString()
  const host = await machine()
  progress.say(
    `bench: ${settings.events.toLocaleString()} events, ${settings.runs} runs, ${host.nproc} cores, Node ${host.node}, ` +
      `PostgreSQL ${host.postgres}, LOG_LEVEL=${settings.logLevel}, HTTP load: ${host.httpLoadGenerator}, ` +
      `sections: ${[...options.scenarios].join(',')}`,
  )
  const workload = generateWorkload({ events: settings.events, partitions: settings.partitions })
  progress.say(`workload: ${JSON.stringify(workload.counts)}; expected state ${JSON.stringify(workload.expected)}`)
  const ctx = new Context(options, workload, progress)
  for (const scenario of scenarios) for (const m of scenario.measurements(options)) ctx.results.define(m)
  return { ctx, startedAt, host }
}

/** The results as a table on stdout and as JSON in bench/results/latest.json; the goals; the history line. */
function report({ ctx, startedAt, host }: Awaited<ReturnType<typeof prepare>>): void {
  const { results, workload, options } = ctx
  const history = writesHistory(options)
  const goalList = goals(results, { rssEvents: ctx.settings.rssEvents, history })
  const body = {
    startedAt,
    finishedAt: new Date().toISOString(),
    seconds: Math.round(ctx.progress.seconds),
    command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
    settings: ctx.settings,
    machine: host,
    workload: { counts: workload.counts, expected: workload.expected },
    measurements: results.toJSON(),
    targets: targets(results),
    perCore: perCore(results),
    goals: goalList,
    problems: results.problems,
  }
  const path = `${resultsDir}latest.json`
  writeJson(path, body)
  process.stdout.write(`\n${table(results)}\n\nper busy core:\n${perCoreTable(body.perCore)}\n`)
  process.stdout.write(`\ntargets:\n${targetsTable(body.targets)}\n`)
  process.stdout.write(`\ngoals:\n${goalsTable(goalList)}\n`)
  if (history) {
    const machineSummary =
      `${host.nproc} cores ${host.cpu}, ${Math.round(host.memoryMB / 1024)} GiB, Node ${host.node}, ` +
      `PostgreSQL ${host.postgres}, ${host.httpLoadGenerator}`
    const line = historyLine({
      date: startedAt,
      commit: currentCommit(),
      mode: historyMode(options),
      events: ctx.settings.events,
      runs: ctx.settings.runs,
      machine: machineSummary,
      results,
      goals: goalList,
    })
    appendHistory(historyFile, line)
    process.stdout.write(`\nhistory: one line appended to ${historyFile}\n`)
  }
  if (results.problems.length > 0)
    process.stdout.write(`\nproblems:\n${results.problems.map(p => `  - ${p}`).join('\n')}\n`)
  process.stdout.write(`\nwritten to ${path} (${body.seconds} s)\n`)
}

async function runBench(): Promise<void> {
  const progress = new Progress()
  let context: Context | undefined
  try {
    const prepared = await prepare(parseOptions(process.argv.slice(2), process.env, profilesDir), progress)
    context = prepared.ctx
    await runScenarios(context)
    report(prepared)
  } catch (error) {
    progress.say(`bench failed: ${(error as Error).stack ?? String(error)}`)
    process.exitCode = 1
  } finally {
    await context?.cleanup()
  }
}

if (process.argv.slice(2).some(a => a === '--compare' || a.startsWith('--compare='))) {
  const { runCompare } = await import('./compare.ts')
  try {
    process.exitCode = await runCompare(process.argv.slice(2))
  } catch (error) {
    process.stderr.write(`bench --compare failed: ${(error as Error).message}\n`)
    process.exitCode = 1
  }
} else {
  await runBench()
}
// The Kafka and Redis clients of this process may keep sockets open a little longer; the work is done.
setTimeout(() => process.exit(), 500).unref()
