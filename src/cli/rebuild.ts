// `pipeline rebuild start|status|verify|swap|rollback|abort|drop-old`: rebuilding the projection from the log.
// `start` runs the fill in the foreground with its progress (a bar on a terminal, a line every few seconds
// otherwise) and keeps following the log once caught up, until `swap` or `abort` (from another terminal or the
// admin API) or Ctrl-C; then the rebuild is `stopped`, and `start --resume` continues where its group committed.
// Exit codes: 0 done (verify: the tables match), 1 refused or failed (verify: they differ), 2 usage error.
import { userInfo } from 'node:os'
import { type ParseArgsConfig, parseArgs } from 'node:util'
import type { Config } from '../config/index.ts'
import { createLogger } from '../observability/index.ts'
import {
  durationText,
  lazyGenerations,
  type Progress,
  RebuildError,
  type RebuildStatus,
  type Rebuilds,
  rebuildsFromConfig,
  type VerifyReport,
  verifyLimitMax,
} from '../rebuild/index.ts'
import { createGenerations, createStore, type Generations, type Store } from '../store/index.ts'

type Options = NonNullable<ParseArgsConfig['options']>
type Values = Record<string, string | boolean | undefined>

export interface RebuildIo {
  readonly stdout: NodeJS.WriteStream
  readonly stderr: NodeJS.WriteStream
  /** Who is recorded in the audit (default: the OS user). */
  readonly who?: string
  /** Stops a foreground fill (default: SIGINT and SIGTERM). */
  readonly signal?: AbortSignal
  /** The store's generations (default: the store's own, for the configured database). */
  readonly generations?: Generations
  /** How often a line of progress is printed when stdout is not a terminal (default 5 s). */
  readonly progressEveryMs?: number
}

interface Command {
  readonly usage: string
  readonly options: Options
  run(values: Values, rebuilds: Rebuilds, io: RebuildIo): Promise<number>
}

class Usage extends Error {}

const print = (io: RebuildIo, text: string) => io.stdout.write(`${text}\n`)
const json = (io: RebuildIo, value: unknown) => print(io, JSON.stringify(value, null, 2))
const whoOf = (io: RebuildIo) => io.who ?? `cli ${userInfo().username}`

/**
 * A point in time for --from: ISO-8601 (`2025-01-11T12:00:00Z`), or milliseconds since the epoch. Refused when it
 * is not one, or in the future (a group starting there would skip what is produced until then).
 */
export function parseFrom(text: string, now = Date.now()): number {
  const ms = /^\d{1,16}$/.test(text) ? Number(text) : /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN
  if (!Number.isFinite(ms) || ms < 0) {
    throw new Usage(
      `--from: "${text.slice(0, 60)}" is not a time: use ISO-8601 (2025-01-11T12:00:00Z) or ms since 1970`,
    )
  }
  if (ms > now) throw new Usage(`--from: ${new Date(ms).toISOString()} is in the future`)
  return ms
}

/** The status for a person: the state, then per partition where the shadow is. */
export function statusText(s: RebuildStatus): string {
  const lines = [
    `rebuild ${s.id}: ${s.state}${s.worker.active ? ' (a process is working on it)' : ''}`,
    `  generation ${s.generation ?? '—'}, group ${s.group ?? '—'}, topic ${s.topic ?? '—'}`,
    `  started ${s.startedAt ?? '—'} by ${s.by ?? '—'}, from ${s.from ?? 'the earliest record'}`,
  ]
  if (s.progress !== null) {
    const p = s.progress
    lines.push(
      `  progress at ${p.at}: lag ${p.lag}, ${p.perSecond} records/s, ETA ${durationText(p.etaSeconds)}${p.caughtUp ? ' (caught up)' : ''}`,
      '  partition  reached      end          lag       records/s  ETA',
      ...p.partitions.map(
        r =>
          `  ${String(r.partition).padEnd(9)}  ${r.reached.padEnd(11)}  ${r.end.padEnd(11)}  ${String(r.lag).padEnd(8)}  ${String(r.perSecond).padEnd(9)}  ${durationText(r.etaSeconds)}`,
      ),
    )
  }
  lines.push(`  bad records: ${s.badRecords.count} (not dead-lettered again: the live consumer did)`)
  for (const b of s.badRecords.first.slice(0, 10)) {
    lines.push(`    ${b.code} partition ${b.partition} offset ${b.offset} eventId ${b.eventId ?? '—'}: ${b.message}`)
  }
  if (s.badRecords.count > 10) lines.push(`    … (rebuild status --json lists up to ${s.badRecords.first.length})`)
  if (s.verify !== null) {
    lines.push(`  last verify ${s.verify.at}: ${s.verify.matches ? 'the tables match' : 'differences found'}`)
  }
  if (s.error !== null) lines.push(`  error: ${s.error}`)
  return lines.join('\n')
}

/** A verify's answer for a person: per table, counts and checksums, then the differing keys with both rows. */
export function verifyText(report: VerifyReport): string {
  const lines = [
    report.summary.matches ? 'the shadow matches the live tables' : 'the shadow differs from the live tables',
  ]
  lines.push('  table             live rows  shadow rows  checksums  differing')
  for (const t of report.summary.tables) {
    const same = t.liveChecksum === t.shadowChecksum ? 'equal' : 'differ'
    lines.push(
      `  ${t.table.padEnd(16)}  ${String(t.liveRows).padEnd(9)}  ${String(t.shadowRows).padEnd(11)}  ${same.padEnd(9)}  ${t.differing}`,
    )
  }
  for (const t of report.tables) {
    for (const d of t.differing) {
      lines.push(
        `  ${t.table} ${d.key}`,
        `    live:   ${JSON.stringify(d.live)}`,
        `    shadow: ${JSON.stringify(d.shadow)}`,
      )
    }
  }
  return lines.join('\n')
}

/** Progress on stderr: a bar redrawn on a terminal; otherwise a line every few seconds and at each new state. */
function progressPrinter(io: RebuildIo): { show(p: Progress, s: RebuildStatus): void; end(): void } {
  const stream = io.stderr
  let last = 0
  let shown: string | undefined
  let drawn = false
  return {
    show(p, s) {
      const total = p.partitions.reduce((sum, r) => sum + Number(r.end), 0)
      const done = total - p.lag
      const text = `${s.state}: ${done}/${total} records, lag ${p.lag}, ${p.perSecond}/s, ETA ${durationText(p.etaSeconds)}, bad ${s.badRecords.count}`
      if (stream.isTTY) {
        const width = 30
        const filled = total === 0 ? width : Math.round((done / total) * width)
        stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`)
        drawn = true
      } else if (s.state !== shown || Date.now() - last >= (io.progressEveryMs ?? 5000)) {
        // A line every few seconds, and one as soon as the state changes (caught up, stopping).
        last = Date.now()
        shown = s.state
        stream.write(`${text}\n`)
      }
    },
    end() {
      if (drawn) stream.write('\n')
    },
  }
}

/** Runs the fill in the foreground until it stops (Ctrl-C, a swap or an abort asked, the lease lost). */
async function fillForeground(rebuilds: Rebuilds, io: RebuildIo): Promise<number> {
  const stop = new AbortController()
  const onSignal = () => stop.abort()
  if (io.signal === undefined) {
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  } else if (io.signal.aborted) stop.abort()
  else io.signal.addEventListener('abort', onSignal, { once: true })
  const printer = progressPrinter(io)
  try {
    const end = await rebuilds.fill(stop.signal, (p, s) => printer.show(p, s))
    printer.end()
    const why =
      end.stoppedBy === 'request'
        ? 'another command (swap or abort) took the rebuild over'
        : end.stoppedBy === 'lease'
          ? 'its lease was lost (Redis out of reach, or another process took it)'
          : 'interrupted'
    const next = end.state === 'stopped' ? '; continue it with: npm run pipeline -- rebuild start --resume' : ''
    io.stderr.write(`rebuild ${end.id}: ${end.state}, ${why}${next}\n`)
    return 0
  } finally {
    printer.end()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    io.signal?.removeEventListener('abort', onSignal)
  }
}

const jsonOption: Options = { json: { type: 'boolean' } }

const commands: Record<string, Command> = {
  start: {
    usage: `usage: pipeline rebuild start [--from TIMESTAMP] [--resume] [--no-follow]
  Creates a shadow generation of the projection and fills it from the topic's earliest record (or from
  TIMESTAMP: ISO-8601 or ms since 1970) under a consumer group of its own, with the live consumer's rules,
  while the live projection keeps serving. Shows progress until caught up, then keeps following the log until
  \`rebuild swap\` or \`rebuild abort\` (from another terminal or the admin API) or Ctrl-C (the rebuild is then
  stopped: --resume continues it). Refused while another rebuild of the store is under way, and when retention
  deleted records of the topic (unless --from is given).
  --no-follow   create the shadow and set where it starts, without filling it here (the admin API's
                POST /admin/rebuild/resume, or start --resume, fills it)`,
    options: { from: { type: 'string' }, resume: { type: 'boolean' }, 'no-follow': { type: 'boolean' } },
    async run(values, rebuilds, io) {
      if (values['resume'] && values['from'] !== undefined) throw new Usage('--resume continues a rebuild: no --from')
      if (!values['resume']) {
        const from = values['from'] === undefined ? undefined : parseFrom(String(values['from']))
        const started = await rebuilds.start({ by: whoOf(io), ...(from === undefined ? {} : { from }) })
        io.stderr.write(`rebuild ${started.id}: shadow ${started.generation}, group ${started.group}\n`)
        if (values['no-follow']) return 0
      }
      return fillForeground(rebuilds, io)
    },
  },
  status: {
    usage: `usage: pipeline rebuild status [--json]
  The store's rebuild: its state, per partition the offset the shadow reached, the log end, the lag, the rate
  and the ETA, and its bad records.`,
    options: jsonOption,
    async run(values, rebuilds, io) {
      const status = await rebuilds.status()
      if (status === undefined) {
        if (values['json']) json(io, null)
        else print(io, 'no rebuild of this store (rebuild start begins one)')
        return 0
      }
      if (values['json']) json(io, status)
      else print(io, statusText(status))
      return 0
    },
  },
  verify: {
    usage: `usage: pipeline rebuild verify [--limit N] [--json]
  Once the shadow has processed everything the live tables have, compares them table by table: counts,
  checksums, and the first N (default 20, at most ${verifyLimitMax}) differing keys with both rows. Exit 0 when
  they match, 1 when they differ. The live consumer keeps writing meanwhile: a key it changes during the
  comparison may show as different.`,
    options: { ...jsonOption, limit: { type: 'string' } },
    async run(values, rebuilds, io) {
      const raw = values['limit'] === undefined ? '20' : String(values['limit'])
      const limit = Number(raw)
      if (!/^\d{1,4}$/.test(raw) || limit < 1 || limit > verifyLimitMax) {
        throw new Usage(`--limit: expected a whole number from 1 to ${verifyLimitMax}`)
      }
      const report = await rebuilds.verify({ by: whoOf(io), limit })
      if (values['json']) json(io, report)
      else print(io, verifyText(report))
      return report.summary.matches ? 0 : 1
    },
  },
  swap: {
    usage: `usage: pipeline rebuild swap [--json]
  Makes the shadow the live projection: stops the fill (wherever it runs), lets the shadow reach the live
  tables, swaps them in one step, and applies the records the live consumer applied to the old tables
  meanwhile. The old tables are kept: rollback switches back, drop-old drops them.`,
    options: jsonOption,
    run: (values, rebuilds, io) => done(values, io, rebuilds.swap({ by: whoOf(io) })),
  },
  rollback: {
    usage: `usage: pipeline rebuild rollback [--json]
  Switches back to the tables the swap replaced, with the records applied since; the rebuilt tables become
  the shadow again (start --resume, swap or abort it).`,
    options: jsonOption,
    run: (values, rebuilds, io) => done(values, io, rebuilds.rollback({ by: whoOf(io) })),
  },
  abort: {
    usage: `usage: pipeline rebuild abort [--json]
  Stops the fill (wherever it runs) and drops the shadow generation and the rebuild's consumer groups.`,
    options: jsonOption,
    run: (values, rebuilds, io) => done(values, io, rebuilds.abort({ by: whoOf(io) })),
  },
  'drop-old': {
    usage: `usage: pipeline rebuild drop-old [--json]
  After a swap: drops the old tables. The rebuild is done, and a new one may begin.`,
    options: jsonOption,
    run: (values, rebuilds, io) => done(values, io, rebuilds.dropOld({ by: whoOf(io) })),
  },
}

async function done(values: Values, io: RebuildIo, action: Promise<RebuildStatus>): Promise<number> {
  const status = await action
  if (values['json']) json(io, status)
  else print(io, `rebuild ${status.id}: ${status.state}`)
  return 0
}

export const rebuildUsage =
  'usage: pipeline rebuild <start|status|verify|swap|rollback|abort|drop-old> [options]   (--help after any of them)'

/** Runs `pipeline rebuild …` (argv after "rebuild"); resolves with the exit code. */
export async function runRebuild(
  argv: readonly string[],
  config: Config,
  io: RebuildIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h') {
    io.stdout.write(`${rebuildUsage}\n`)
    return name === undefined ? 2 : 0
  }
  const command = commands[name]
  if (command === undefined) {
    io.stderr.write(`pipeline rebuild: unknown command "${name}"\n${rebuildUsage}\n`)
    return 2
  }
  let values: Values
  try {
    values = parseArgs({
      args: [...rest],
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }).values as Values
  } catch (error) {
    io.stderr.write(`pipeline rebuild ${name}: ${(error as Error).message}\n${command.usage}\n`)
    return 2
  }
  if (values['help']) {
    io.stdout.write(`${command.usage}\n`)
    return 0
  }
  let live: Store | undefined
  let generations: Generations | undefined
  let built: ReturnType<typeof rebuildsFromConfig> | undefined
  try {
    live = await createStore(config.database, { timeoutMs: config.dbTimeoutMs })
    generations =
      io.generations ?? lazyGenerations(() => createGenerations(config.database, { timeoutMs: config.dbTimeoutMs }))
    // The fill's consumer logs only warnings here: the progress line is what a person watches.
    const logger = createLogger('warn', 'rebuild')
    built = rebuildsFromConfig(config, { generations, live, logger })
    return await command.run(values, built.rebuilds, io)
  } catch (error) {
    if (error instanceof Usage || (error instanceof RebuildError && error.kind === 'usage')) {
      io.stderr.write(`pipeline rebuild ${name}: ${error.message}\n`)
      return 2
    }
    if (error instanceof RebuildError) {
      io.stderr.write(`pipeline rebuild ${name}: ${error.message}\n`)
      return 1
    }
    io.stderr.write(`pipeline rebuild ${name}: failed: ${(error as Error).message}\n`)
    return 1
  } finally {
    await built?.close()
    if (io.generations === undefined) await generations?.close()
    await live?.close()
  }
}
