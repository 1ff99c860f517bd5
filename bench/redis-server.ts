// A private redis-server for the benchmark, on a free loopback port, without persistence: what the bench puts in
// it (a million dead letters) never touches the shared Redis, and it is killed at the end. Its SLOWLOG records
// every command of 0.1 ms or more, so the bench reads how long each single command held Redis from Redis itself.
import { type ChildProcess, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { freePort } from '../dev/ports.ts'
import { processCpu } from './process-cpu.ts'

/** The name of the bench's own connection: its commands (INFO, SLOWLOG, MEMORY) are not the DLQ's. */
const benchClientName = 'bench-admin'
/** Commands shorter than this are not logged. */
export const slowlogMicros = 100

/** One command as SLOWLOG recorded it. */
export interface LoggedCommand {
  /** The command, or for a script the name given to its SHA-1 (`script:push`…). */
  readonly name: string
  readonly micros: number
}

export interface PrivateRedis {
  readonly addr: string
  /** The bench's own connection (named, so its commands are left out of the SLOWLOG readings). */
  readonly admin: Redis
  /**
   * The server's CPU time so far (ms, all its threads, 10 ms ticks): unlike SLOWLOG's wall-clock durations, not
   * inflated when other processes take the cores from Redis.
   */
  cpuMs(): number
  /** INFO's `used_memory`, in bytes. */
  usedMemory(): Promise<number>
  /**
   * The commands of other clients logged since the last call (the log is emptied), scripts named by `scripts`
   * (name → Lua text, as ioredis sends it by SHA-1).
   */
  drainSlowlog(): Promise<LoggedCommand[]>
  stop(): Promise<void>
}

export async function startPrivateRedis(scripts: Readonly<Record<string, string>>): Promise<PrivateRedis> {
  const port = await freePort()
  const child: ChildProcess = spawn(
    'redis-server',
    [
      ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      // Redis 7 also logs the commands a script runs, each of them: logging all (a threshold of 0) would cost
      // more than the scripts' own work and inflate what is measured. The bench empties the log after each step.
      ...['--slowlog-log-slower-than', String(slowlogMicros), '--slowlog-max-len', '1000000'],
    ],
    { stdio: 'ignore' },
  )
  const exited = once(child, 'exit')
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)
  const admin = new Redis({ port, host: '127.0.0.1', connectionName: benchClientName, lazyConnect: true })
  admin.on('error', () => {})
  const stop = async () => {
    admin.disconnect()
    process.removeListener('exit', killOnExit)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  }
  try {
    for (let attempt = 0; ; attempt++) {
      if ((await admin.ping().catch(() => '')) === 'PONG') break
      if (attempt > 100 || child.exitCode !== null) throw new Error(`redis-server on port ${port} did not start`)
      await sleep(50)
    }
  } catch (error) {
    await stop()
    throw error
  }
  const bySha = new Map(Object.entries(scripts).map(([name, lua]) => [sha1(lua), `script:${name}`]))
  const byLength = new Map(Object.entries(scripts).map(([name, lua]) => [Buffer.byteLength(lua), `script:${name}`]))
  return {
    addr: `127.0.0.1:${port}`,
    admin,
    cpuMs: () => processCpu((_, pid) => pid === child.pid).get(child.pid ?? -1) ?? Number.NaN,
    async usedMemory() {
      const info = await admin.info('memory')
      return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? Number.NaN)
    },
    async drainSlowlog() {
      const entries = (await admin.call('SLOWLOG', 'GET', '-1')) as SlowlogEntry[]
      await admin.call('SLOWLOG', 'RESET')
      return entries
        .filter(e => e[5] !== benchClientName)
        .map(e => ({ name: nameOf(e[3], bySha, byLength), micros: e[2] }))
    },
    stop,
  }
}

/** id, unix time, duration (µs), arguments, client address, client name. */
type SlowlogEntry = [number, number, number, string[], string, string]

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex')

function nameOf(
  args: readonly string[],
  bySha: ReadonlyMap<string, string>,
  byLength: ReadonlyMap<number, string>,
): string {
  const command = (args[0] ?? '').toLowerCase()
  if (command === 'evalsha') return bySha.get(args[1] ?? '') ?? 'evalsha'
  if (command !== 'eval') return command
  // A script's first call after a start is an EVAL of its text (ioredis falls back on NOSCRIPT), which SLOWLOG
  // keeps as its first 128 bytes and "... (N more bytes)": the scripts share their first bytes, not their length.
  const more = /\.\.\. \((\d+) more bytes\)$/.exec(args[1] ?? '')
  return (more && byLength.get(128 + Number(more[1]))) || 'eval'
}
