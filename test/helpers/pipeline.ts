// Runs the real `pipeline` command as a child process (the way users run it) and collects its JSON logs.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { freePort } from '../../dev/ports.ts'
import { nodeEnv, nodeFlags } from '../../src/cli/node-flags.ts'
import { eventually } from './kafka.ts'
import type { Cleanup } from './resources.ts'
import { testServices } from './services.ts'

export { freePort } from '../../dev/ports.ts'

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))

export interface RunningPipeline {
  readonly child: ChildProcess
  readonly urls: { producer: string; consumer: string; api: string }
  /** Every JSON log line so far, parsed. */
  readonly logs: Record<string, unknown>[]
  readonly stderr: string[]
  /** Sends SIGTERM and resolves with the exit code and how long the exit took. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; ms: number }>
}

/** What to run: the sources' src/cli/main.ts by default, or a built dist/main.js from its app folder. */
export interface Launch {
  readonly entry?: string
  readonly cwd?: string
}

export async function startPipeline(
  t: Cleanup,
  command: 'all' | 'producer' | 'consumer' | 'api',
  env: Record<string, string>,
  launch: Launch = {},
): Promise<RunningPipeline> {
  const ports = { producer: await freePort(), consumer: await freePort(), api: await freePort() }
  const child = spawn(process.execPath, [...nodeFlags, launch.entry ?? main, command], {
    ...(launch.cwd === undefined ? {} : { cwd: launch.cwd }),
    env: {
      ...nodeEnv,
      PATH: process.env['PATH'] ?? '',
      KAFKA_BROKERS: testServices.kafkaBrokers.join(','),
      REDIS_ADDR: testServices.redisAddr,
      REDIS_PASSWORD: testServices.redisPassword,
      HOST: '127.0.0.1',
      PRODUCER_PORT: String(ports.producer),
      CONSUMER_PORT: String(ports.consumer),
      API_PORT: String(ports.api),
      KAFKA_AUTOSTART: 'false',
      LOG_LEVEL: 'INFO',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const logs: Record<string, unknown>[] = []
  const stderr: string[] = []
  let pending = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8')
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line))
      } catch {
        stderr.push(`(stdout, not JSON) ${line}`)
      }
    }
  })
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')))
  const exited = once(child, 'exit')
  let stopped: Promise<{ code: number | null; ms: number }> | undefined
  const stop = (signal: NodeJS.Signals = 'SIGTERM') => {
    stopped ??= (async () => {
      const started = Date.now()
      if (child.exitCode === null) child.kill(signal)
      const [code] = (await exited) as [number | null]
      return { code, ms: Date.now() - started }
    })()
    return stopped
  }
  t.after(async () => {
    if (child.exitCode === null) child.kill('SIGKILL')
    await exited
  })
  const urls = {
    producer: `http://127.0.0.1:${ports.producer}`,
    consumer: `http://127.0.0.1:${ports.consumer}`,
    api: `http://127.0.0.1:${ports.api}`,
  }
  const roles = command === 'all' ? (['producer', 'consumer', 'api'] as const) : [command]
  try {
    await eventually(
      `pipeline ${command} to answer /health`,
      async () => {
        if (child.exitCode !== null) throw new Error(`pipeline exited with ${child.exitCode}: ${stderr.join('')}`)
        for (const role of roles) {
          const ok = await fetch(`${urls[role]}/health`).then(
            r => r.ok,
            () => false,
          )
          if (!ok) return false
        }
        return true
      },
      30_000,
    )
  } catch (error) {
    child.kill('SIGKILL')
    throw error
  }
  return { child, urls, logs, stderr, stop }
}
