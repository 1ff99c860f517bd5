// `pipeline pause|resume|paused`: pause and resume the live consumer group (KAFKA_GROUP_ID on KAFKA_TOPIC), per
// partition or all, and show what is paused with every member's acknowledgement. The change goes to the group's
// pause board in Redis; every member obeys it within half a second (src/consumer/pause-board.ts).
// Exit codes: 0 done, 2 usage error (nothing changed), 1 failure (Redis or Kafka, or --wait ran out of time).
import { userInfo } from 'node:os'
import { parseArgs } from 'node:util'
import {
  type MemberReport,
  type PauseBoard,
  type PauseBoardConfig,
  PauseRequestError,
  type PauseScope,
  type PauseState,
  PauseWaitTimeout,
  pauseBoardFromConfig,
} from '../consumer/index.ts'
import { pauseAudit } from '../dlq-ops/index.ts'
import { connectionOf, endOffsets } from '../kafka/index.ts'
import { table } from './dlq-format.ts'

export const pauseUsage = `usage: pipeline pause [--partition N ...] [--reason TEXT] [--wait] [--timeout SECONDS] [--json]
       pipeline resume [--partition N ...] [--json]
       pipeline paused [--json]            (also: pipeline pause status)
  Pauses the consumer group KAFKA_GROUP_ID on KAFKA_TOPIC: every partition, or those given with --partition
  (repeat it). Members finish the batch in flight, commit it and start no other of a paused partition; the
  partitions stay assigned and keep their committed offsets; resume goes on where they stopped. Audited.
  --reason TEXT     why (at most 200 characters), shown to other operators
  --wait            wait until every live member has acknowledged and has nothing paused in flight
  --timeout S       longest --wait waits (default 30 seconds)
  --json            the state as GET /admin/consumer/pause answers it`

export interface PauseIo {
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream
  /** Who the audit names (default: `cli <OS user>`). */
  readonly who?: string
}

/** What the command asks for: its verb, the scope, and the options. */
export interface PauseCommand {
  readonly verb: 'pause' | 'resume' | 'status'
  readonly scope: PauseScope
  readonly reason: string | undefined
  readonly wait: boolean
  readonly timeoutMs: number
  readonly json: boolean
}

/** Reads the arguments after `pause`, `resume` or `paused`; a PauseRequestError says what is wrong. */
export function parsePauseArgs(name: 'pause' | 'resume' | 'paused', argv: readonly string[]): PauseCommand {
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        partition: { type: 'string', multiple: true },
        reason: { type: 'string' },
        wait: { type: 'boolean' },
        timeout: { type: 'string' },
        json: { type: 'boolean' },
      },
      allowPositionals: true,
      strict: true,
    })
  } catch (error) {
    throw new PauseRequestError((error as Error).message)
  }
  const { values, positionals } = parsed
  const verb = name === 'paused' || (name === 'pause' && positionals[0] === 'status') ? 'status' : name
  const extra = verb === 'status' && name === 'pause' ? positionals.slice(1) : positionals
  if (extra.length > 0) throw new PauseRequestError(`unexpected argument "${extra[0]}"`)
  const partitions = (values['partition'] as string[] | undefined) ?? []
  if (verb === 'status' && (partitions.length > 0 || values['reason'] !== undefined || values['wait'])) {
    throw new PauseRequestError('status takes --json only')
  }
  if (verb === 'resume' && (values['reason'] !== undefined || values['wait'])) {
    throw new PauseRequestError('resume takes --partition and --json only')
  }
  const numbers = partitions.map(p => {
    if (!/^[0-9]{1,7}$/.test(p)) throw new PauseRequestError(`--partition: "${p}" is not a partition number`)
    return Number(p)
  })
  const timeout = values['timeout'] as string | undefined
  if (timeout !== undefined && (!/^[0-9]{1,5}$/.test(timeout) || Number(timeout) < 1)) {
    throw new PauseRequestError('--timeout: expected a whole number of seconds from 1 to 99999')
  }
  return {
    verb,
    scope: numbers.length === 0 ? 'all' : numbers,
    reason: values['reason'] as string | undefined,
    wait: values['wait'] === true,
    timeoutMs: (timeout === undefined ? 30 : Number(timeout)) * 1000,
    json: values['json'] === true,
  }
}

const list = (ps: readonly number[]) => (ps.length === 0 ? '-' : ps.join(','))

/** What is paused, and each member's acknowledgement, for people. */
export function pauseStateText(state: PauseState, group: string, topic: string): string {
  const { record } = state
  const lines = [`consumer group ${group}, topic ${topic} (revision ${record.revision})`]
  const listed = Object.entries(record.partitions).sort((a, b) => Number(a[0]) - Number(b[0]))
  if (record.all !== null) {
    const why = record.all.reason === '' ? '' : `: ${record.all.reason}`
    lines.push(`every partition paused by ${record.all.by} at ${record.all.at}${why}`)
  } else if (listed.length === 0) lines.push('nothing paused')
  if (listed.length > 0) {
    lines.push(
      table(
        ['PARTITION', 'PAUSED BY', 'AT', 'REASON'],
        listed.map(([p, e]) => [p, e.by, e.at, e.reason]),
        [9, 40, 24, 80],
      ),
    )
  }
  if (state.members.length === 0) lines.push('no live member reports (none running, or none has polled yet)')
  else {
    lines.push(
      table(
        ['MEMBER', 'OWNS', 'PAUSED', 'IN FLIGHT', 'REVISION', 'REPORTED'],
        state.members.map((m: MemberReport) => [
          m.member,
          list(m.owned),
          list(m.paused),
          list(m.busy) + (m.sweeping ? ' (sweep)' : ''),
          String(m.revision),
          m.at,
        ]),
        [50, 30, 30, 30, 8, 24],
      ),
    )
  }
  for (const { report, silentMs } of state.silent) {
    lines.push(
      `silent for ${Math.round(silentMs / 1000)} s: ${report.member}, which owned ${list(report.owned)} (last report ${report.at})`,
    )
  }
  if (record.all !== null || listed.length > 0) {
    lines.push(
      state.idle
        ? 'idle: every live member has stopped what is paused'
        : `not idle yet: ${state.waitingFor.join('; ')}`,
    )
  }
  return lines.join('\n')
}

/** The state as GET /admin/consumer/pause answers it. */
export function pauseStateJson(state: PauseState, group: string, topic: string) {
  const { record } = state
  return {
    groupId: group,
    topic,
    revision: record.revision,
    all: record.all,
    partitions: Object.entries(record.partitions)
      .map(([p, e]) => ({ partition: Number(p), ...e }))
      .sort((a, b) => a.partition - b.partition),
    members: state.members,
    silent: state.silent.map(s => ({ report: s.report, silentSeconds: Math.round(s.silentMs / 1000) })),
    idle: state.idle,
    waitingFor: state.waitingFor,
  }
}

function safeUser(): string {
  try {
    return userInfo().username
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`
  }
}

export type PauseCliConfig = PauseBoardConfig & Parameters<typeof connectionOf>[0]

async function execute(command: PauseCommand, board: PauseBoard, io: PauseIo): Promise<number> {
  const who = io.who ?? `cli ${safeUser()}`
  let state: PauseState
  if (command.verb === 'pause') state = await board.pause(command.scope, who, command.reason)
  else if (command.verb === 'resume') state = await board.resume(command.scope, who)
  else state = await board.state()
  if (command.wait) {
    if (!command.json) io.stderr.write('waiting for every live member to stop what is paused…\n')
    state = await board.waitIdle(command.timeoutMs)
  }
  const text = command.json
    ? JSON.stringify(pauseStateJson(state, board.groupId, board.topic), null, 2)
    : pauseStateText(state, board.groupId, board.topic)
  io.stdout.write(`${text}\n`)
  return 0
}

/** Runs `pipeline pause|resume|paused …` (argv after the command's name); resolves with the exit code. */
export async function runPause(
  name: 'pause' | 'resume' | 'paused',
  argv: readonly string[],
  config: PauseCliConfig,
  io: PauseIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(`${pauseUsage}\n`)
    return 0
  }
  let command: PauseCommand
  try {
    command = parsePauseArgs(name, argv)
  } catch (error) {
    io.stderr.write(`pipeline ${name}: ${(error as Error).message}\n${pauseUsage}\n`)
    return 2
  }
  const partitionCount = async () =>
    (await endOffsets(connectionOf(config, 'pause-cli'), config.kafkaTopic, 10_000)).length
  const board = pauseBoardFromConfig(config, partitionCount, redis => pauseAudit(redis, config.dlqKey))
  try {
    return await execute(command, board, io)
  } catch (error) {
    if (error instanceof PauseRequestError) {
      io.stderr.write(`pipeline ${name}: ${error.message}\n`)
      return 2
    }
    if (error instanceof PauseWaitTimeout) {
      io.stderr.write(`pipeline ${name}: ${error.message}\n`)
      return 1
    }
    io.stderr.write(`pipeline ${name}: failed: ${(error as Error).message}\n`)
    return 1
  } finally {
    await board.close()
  }
}
