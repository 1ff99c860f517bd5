// `pipeline dlq list|show|stats|redrive|purge|audit|reindex`: the dead-letter queue from the command line.
// Exit codes: 0 done, 2 usage error (nothing changed), 1 failure (Redis or Kafka, or a redrive that stopped).
import { readFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import { type ParseArgsConfig, parseArgs } from 'node:util'
import { eventPageMax } from '../dlq/index.ts'
import {
  type AdminConfig,
  adminFromConfig,
  type DlqAdmin,
  type DlqFilter,
  filterKeys,
  type JobStatus,
  LeaseLost,
  pageLimitMax,
  parseFilter,
  parseLimit,
  RedriveBusy,
  type RedriveRequest,
  UsageError,
} from '../dlq-ops/index.ts'
import { auditText, entriesTable, letterText, pageText, progressBar, statsText } from './dlq-format.ts'

type Options = NonNullable<ParseArgsConfig['options']>

const filterOptions: Options = {
  type: { type: 'string' },
  code: { type: 'string' },
  key: { type: 'string' },
  'event-id': { type: 'string' },
  source: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
}
const filterHelp = `filters (all optional, combined with AND):
  --type TYPE          event type the payload names (UserCreated, OrderPlaced, …)
  --code CODE          error code (SCHEMA_VIOLATION, INVALID_JSON, …)
  --key KEY            Kafka record key
  --event-id ID        eventId (read from the index, no scan)
  --source S           consumer or producer
  --since T, --until T failedAt from T (inclusive) to T (exclusive): ISO-8601 or an age (30m, 2h, 7d)`

interface Command {
  readonly usage: string
  readonly options: Options
  readonly positionals?: boolean
  run(args: Parsed, admin: DlqAdmin, io: Io): Promise<number>
}

type Parsed = { values: Record<string, string | boolean | undefined>; positionals: string[] }

export interface Io {
  readonly stdout: NodeJS.WriteStream
  readonly stderr: NodeJS.WriteStream
  /** Who is recorded in the audit (default: the OS user). */
  readonly who?: string
}

const print = (io: Io, text: string) => io.stdout.write(`${text}\n`)
const json = (io: Io, value: unknown) => print(io, JSON.stringify(value, null, 2))

function filterOf(values: Parsed['values']): DlqFilter {
  const fields: Record<string, unknown> = {}
  for (const name of filterKeys) fields[name] = values[name === 'eventId' ? 'event-id' : name]
  return parseFilter(fields)
}

function positiveNumber(raw: unknown, name: string, max: number, integer: boolean): number | undefined {
  if (raw === undefined) return undefined
  const n = Number(raw)
  if (!Number.isFinite(n) || n <= 0 || n > max || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name}: expected a ${integer ? 'whole ' : ''}number from 1 to ${max}`)
  }
  return n
}

const commands: Record<string, Command> = {
  list: {
    usage: `usage: pipeline dlq list [filters] [--limit N] [--cursor C] [--json]
  Entries newest first, one page at a time (--limit, 1 to ${pageLimitMax}, default 50). A page that ends before
  the list does prints the cursor of the next one.

${filterHelp}`,
    options: { ...filterOptions, limit: { type: 'string' }, cursor: { type: 'string' }, json: { type: 'boolean' } },
    async run({ values }, admin, io) {
      const page = await admin.list(
        filterOf(values),
        parseLimit(values['limit']),
        values['cursor'] as string | undefined,
      )
      if (values['json']) json(io, page)
      else print(io, pageText(page))
      return 0
    },
  },
  show: {
    usage: `usage: pipeline dlq show EVENT_ID [--limit N] [--cursor NEXT] [--json]
  The entries of one eventId, newest first, payload included: N per page (default 50, at most 500);
  --cursor continues where the previous page said.`,
    options: { json: { type: 'boolean' }, limit: { type: 'string' }, cursor: { type: 'string' } },
    positionals: true,
    async run({ values, positionals }, admin, io) {
      const [eventId, ...rest] = positionals
      if (eventId === undefined || rest.length > 0) throw new UsageError('give exactly one eventId')
      const limit = parseLimit(values['limit'], eventPageMax)
      const cursor = values['cursor'] as string | undefined
      const page = await admin.show(eventId, limit, cursor)
      if (values['json']) json(io, page)
      else if (page.entries.length === 0) print(io, '(no dead letter has this eventId)')
      else {
        const more =
          page.next === null
            ? ''
            : `\n\n(${page.entries.length} of ${page.total}; next page: pipeline dlq show ${eventId} --cursor ${page.next})`
        print(io, page.entries.map(letterText).join('\n\n') + more)
      }
      return page.entries.length === 0 && page.total === 0 ? 1 : 0
    },
  },
  stats: {
    usage: `usage: pipeline dlq stats [--json]
  Counts by error code and by event type, the oldest and newest failedAt, and the total.`,
    options: { json: { type: 'boolean' } },
    async run({ values }, admin, io) {
      const stats = await admin.stats()
      if (values['json']) json(io, stats)
      else print(io, statsText(stats))
      return 0
    },
  },
  redrive: {
    usage: `usage: pipeline dlq redrive [filters] [--dry-run] [--rate N] [--limit N] [--to TOPIC] [--json]
       pipeline dlq redrive --event-id ID --payload FILE [--to TOPIC] [--dry-run]
       pipeline dlq redrive --resume [REDRIVE_ID]
  Sends each matching entry's original record (value and key) to Kafka again, oldest first, with headers naming
  where it came from (x-redrive-source) and the redrive (x-redrive-id); an entry leaves the DLQ only once Kafka
  acknowledged its copy. A redrive that was killed is completed by --resume, or by the next redrive, which
  resumes unfinished ones first; no entry is lost or sent twice.
  --dry-run        list what would be sent; change nothing
  --rate N         records per second
  --limit N        at most N entries
  --to TOPIC       send to TOPIC instead of each record's own topic
  --payload FILE   with --event-id: replace the event (validated as the producer validates it) and send it
  --resume [ID]    complete an unfinished redrive (default: every unfinished one)

${filterHelp}`,
    options: {
      ...filterOptions,
      'dry-run': { type: 'boolean' },
      rate: { type: 'string' },
      limit: { type: 'string' },
      to: { type: 'string' },
      payload: { type: 'string' },
      resume: { type: 'boolean' },
      json: { type: 'boolean' },
    },
    positionals: true,
    run: redrive,
  },
  purge: {
    usage: `usage: pipeline dlq purge [filters] [--limit N] [--yes] [--json]
  Removes the matching entries (audited). Without --yes it is a dry run that only counts them. Entries an
  unfinished redrive holds are left for it.

${filterHelp}`,
    options: { ...filterOptions, yes: { type: 'boolean' }, limit: { type: 'string' }, json: { type: 'boolean' } },
    async run({ values }, admin, io) {
      const limit = positiveNumber(values['limit'], 'limit', Number.MAX_SAFE_INTEGER, true)
      const result = await admin.purge(filterOf(values), {
        dryRun: values['yes'] !== true,
        who: whoOf(io),
        ...(limit !== undefined ? { limit } : {}),
      })
      if (values['json']) json(io, result)
      else {
        const verb = result.dryRun ? 'would remove' : 'removed'
        print(io, `${verb} ${result.count} entries${result.dryRun ? ' (dry run: add --yes to remove them)' : ''}`)
        if (result.heldByRedrive > 0)
          print(io, `${result.heldByRedrive} matching entries are held by an unfinished redrive`)
      }
      return 0
    },
  },
  audit: {
    usage: `usage: pipeline dlq audit [--limit N] [--json]
  Redrives and purges, newest first: who, when, what, how many.`,
    options: { limit: { type: 'string' }, json: { type: 'boolean' } },
    async run({ values }, admin, io) {
      const entries = await admin.audit(parseLimit(values['limit']))
      if (values['json']) json(io, { entries })
      else print(io, auditText(entries))
      return 0
    },
  },
  reindex: {
    usage: `usage: pipeline dlq reindex
  Rebuilds the eventId index from the whole list (entries pushed before the index existed are indexed at the
  first lookup anyway). Redis is busy for the rebuild: about a second per few hundred thousand entries.`,
    options: {},
    async run(_, admin, io) {
      print(io, `indexed ${await admin.reindex()} entries`)
      return 0
    },
  },
}

const whoOf = (io: Io) => io.who ?? safeUser()
function safeUser(): string {
  try {
    return userInfo().username
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`
  }
}

async function redrive(args: Parsed, admin: DlqAdmin, io: Io): Promise<number> {
  const { values, positionals } = args
  const who = whoOf(io)
  if (positionals.length > (values['resume'] ? 1 : 0)) throw new UsageError(`unexpected argument "${positionals[0]}"`)
  const stop = new AbortController()
  const onSignal = () => {
    io.stderr.write('\nstopping after the current step; the redrive stays resumable\n')
    stop.abort()
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    const runOne = async (id: string, resumed: boolean): Promise<JobStatus> => {
      const bar = progressBar(io.stderr)
      try {
        return await admin.run(id, {
          who,
          resumed,
          waitForLease: resumed,
          signal: stop.signal,
          onProgress: p => bar.update(p.sent, p.total),
        })
      } finally {
        bar.end()
      }
    }
    const report = (status: JobStatus) => {
      if (values['json']) json(io, status)
      else print(io, `redrive ${status.id}: ${status.state}, ${status.sent} of ${status.total} sent`)
      return status.state === 'done' || status.state === 'cancelled' ? 0 : 1
    }
    if (values['resume']) {
      const ids = positionals.length > 0 ? positionals : await admin.unfinished()
      if (ids.length === 0) {
        print(io, 'no unfinished redrive')
        return 0
      }
      let code = 0
      for (const id of ids) {
        if ((await admin.status(id)) === undefined) throw new UsageError(`no redrive ${id}`)
        io.stderr.write(`resuming redrive ${id}\n`)
        code = Math.max(code, report(await runOne(id, true)))
      }
      return code
    }
    const dryRun = values['dry-run'] === true
    if (values['payload'] !== undefined && values['event-id'] === undefined) {
      throw new UsageError('--payload goes with --event-id')
    }
    const rate = positiveNumber(values['rate'], 'rate', 100_000, false)
    const limit = positiveNumber(values['limit'], 'limit', 100_000, true)
    const filter = filterOf(values)
    const request: RedriveRequest = {
      filter,
      who,
      ...(values['to'] !== undefined ? { to: values['to'] as string } : {}),
      ...(rate !== undefined ? { rate } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(values['payload'] !== undefined
        ? { fix: { eventId: values['event-id'] as string, payload: readPayload(values['payload'] as string) } }
        : {}),
    }
    if (!dryRun) {
      // The next run completes what a killed one left, before it selects anything of its own.
      for (const id of await admin.unfinished()) {
        io.stderr.write(`completing unfinished redrive ${id} first\n`)
        if (report(await runOne(id, true)) !== 0) return 1
      }
    }
    const selection = await admin.select(request)
    for (const { letter, reason } of selection.notRedrivable) {
      io.stderr.write(`not redrivable, left in the DLQ: ${letter.eventId ?? '(no eventId)'}: ${reason}\n`)
    }
    if (selection.moreNotRedrivable > 0) io.stderr.write(`… and ${selection.moreNotRedrivable} more not redrivable\n`)
    if (selection.truncated) io.stderr.write('more entries match than one redrive takes; run it again for the rest\n')
    if (dryRun) {
      const letters = selection.entries.map(e => selection.letters.get(e.n)).filter(l => l !== undefined)
      if (values['json']) {
        json(io, { dryRun: true, count: letters.length, entries: letters.slice(0, pageLimitMax) })
      } else {
        if (letters.length > 0) print(io, entriesTable(letters.slice(0, pageLimitMax)))
        print(io, `would send ${letters.length} entries (dry run: nothing was sent or removed)`)
      }
      return 0
    }
    if (selection.entries.length === 0) {
      print(io, 'nothing to redrive')
      return selection.notRedrivable.length > 0 ? 1 : 0
    }
    const created = await admin.create(request, selection)
    if (created.heldElsewhere > 0) io.stderr.write(`${created.heldElsewhere} entries are held by another redrive\n`)
    io.stderr.write(`redrive ${created.id}: ${created.count} entries\n`)
    const status = await runOne(created.id, false)
    if (status.state === 'running') {
      io.stderr.write(`stopped; complete it with: npm run pipeline -- dlq redrive --resume ${created.id}\n`)
    }
    return report(status)
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

function readPayload(file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    throw new UsageError(`--payload: cannot read ${file}: ${(error as Error).message}`)
  }
}

export const dlqUsage = `usage: pipeline dlq <list|show|stats|redrive|purge|audit|reindex> [options]   (--help after any of them)`

/** Runs `pipeline dlq …` (argv after "dlq"); resolves with the exit code. */
export async function runDlq(
  argv: readonly string[],
  config: AdminConfig,
  io: Io = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h') {
    io.stdout.write(`${dlqUsage}\n`)
    return name === undefined ? 2 : 0
  }
  const command = commands[name]
  if (command === undefined) {
    io.stderr.write(`pipeline dlq: unknown command "${name}"\n${dlqUsage}\n`)
    return 2
  }
  let args: Parsed
  try {
    args = parseArgs({
      args: [...rest],
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: command.positionals === true,
      strict: true,
    }) as Parsed
  } catch (error) {
    io.stderr.write(`pipeline dlq ${name}: ${(error as Error).message}\n${command.usage}\n`)
    return 2
  }
  if (args.values['help']) {
    io.stdout.write(`${command.usage}\n`)
    return 0
  }
  const admin = adminFromConfig(config)
  try {
    return await command.run(args, admin, io)
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`pipeline dlq ${name}: ${error.message}\n`)
      return 2
    }
    if (error instanceof RedriveBusy || error instanceof LeaseLost) {
      io.stderr.write(`pipeline dlq ${name}: ${error.message}\n`)
      return 1
    }
    io.stderr.write(`pipeline dlq ${name}: failed: ${(error as Error).message}\n`)
    return 1
  } finally {
    await admin.close()
  }
}
