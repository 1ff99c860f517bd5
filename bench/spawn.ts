// Starting the worker processes of bench/workers and talking to them over IPC. Each worker's stdout (where the
// pipeline's JSON logs go) is /dev/null: log lines are produced and written as in production, but nobody pays
// for reading them back.
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { nodeEnv } from '../src/cli/node-flags.ts'
import type { DrainRequest, DrainResult, ServerRequest, WorkerMessage } from './workers/protocol.ts'

const drainWorker = fileURLToPath(new URL('./workers/drain.ts', import.meta.url))
const serverWorker = fileURLToPath(new URL('./workers/server.ts', import.meta.url))

export interface SpawnOptions {
  /** Extra Node flags for the worker, e.g. --cpu-prof. */
  readonly execArgv?: readonly string[]
  /** Kill the worker when it has not finished after this long. */
  readonly timeoutMs?: number
  /** The drain worker's file, when not its source (the memory scenario runs it bundled, as production ships). */
  readonly drainWorker?: string
}

function start(file: string, request: unknown, options: SpawnOptions): ChildProcess {
  return fork(file, [JSON.stringify(request)], {
    execArgv: [...(options.execArgv ?? [])],
    // The pipeline's environment (nodeEnv), unless the bench's own environment sets a variable otherwise.
    env: { ...nodeEnv, ...process.env },
    stdio: ['ignore', process.env['BENCH_WORKER_STDOUT'] === 'inherit' ? 'inherit' : 'ignore', 'inherit', 'ipc'],
  })
}

export interface DrainHandle {
  /** Resolves once the consumer joined its group (pipeline) or took its first record (naive). */
  readonly joined: Promise<void>
  readonly result: Promise<DrainResult>
  /** Tells the worker which offsets end the run, when they were not known at start. */
  end(endOffsets: Record<string, number>): void
  /** A group member only: end the measured interval. */
  stop(): void
  kill(): void
}

/** What a group member (a `member` request) reports as it happens. */
export interface MemberEvents {
  readonly onAssigned?: (partitions: number[]) => void
  readonly onCommitted?: (partition: number, offset: number) => void
}

export function startDrain(
  request: DrainRequest,
  onProgress: (handled: number) => void,
  options: SpawnOptions = {},
  member: MemberEvents = {},
): DrainHandle {
  const child = start(options.drainWorker ?? drainWorker, request, options)
  let joined!: () => void
  const joinedPromise = new Promise<void>(resolve => {
    joined = resolve
  })
  const result = new Promise<DrainResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${request.kind} consumer did not finish within ${options.timeoutMs} ms`))
    }, options.timeoutMs ?? 600_000)
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'joined') joined()
      else if (message.type === 'assigned') member.onAssigned?.(message.partitions)
      else if (message.type === 'committed') member.onCommitted?.(message.partition, message.offset)
      else if (message.type === 'progress') onProgress(message.handled)
      else if (message.type === 'result') {
        clearTimeout(timer)
        resolve(message.result)
      } else if (message.type === 'failed') {
        clearTimeout(timer)
        reject(new Error(`${request.kind} consumer failed: ${message.message}`))
      }
    })
    child.on('exit', code => {
      clearTimeout(timer)
      reject(new Error(`${request.kind} consumer exited with ${code} before reporting`))
    })
  })
  // A failure before the join must not leave a caller waiting on `joined` forever.
  result.catch(() => joined())
  const tell = (message: WorkerMessage) => {
    if (child.connected) child.send(message)
  }
  return {
    joined: joinedPromise,
    result,
    end: endOffsets => tell({ type: 'end', endOffsets }),
    stop: () => tell({ type: 'stop' }),
    kill: () => child.kill('SIGKILL'),
  }
}

export interface ServerHandle {
  readonly url: string
  /** The server's process, for its CPU. */
  readonly pid: number | undefined
  stop(): Promise<void>
}

export async function startServer(request: ServerRequest, options: SpawnOptions = {}): Promise<ServerHandle> {
  const child = start(serverWorker, request, options)
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${request.kind} server did not start`)), 30_000)
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'listening') {
        clearTimeout(timer)
        resolve(message.url)
      } else if (message.type === 'failed') {
        clearTimeout(timer)
        reject(new Error(`${request.kind} server failed: ${message.message}`))
      }
    })
    child.once('exit', code => reject(new Error(`${request.kind} server exited with ${code}`)))
  })
  return {
    url,
    pid: child.pid,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    },
  }
}
