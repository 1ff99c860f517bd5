// The `pipeline` command as tests run it: a child process of this Node with the pipeline's heap flags, the test
// services in its environment, and no Kafka started on its behalf.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { nodeEnv, nodeFlags } from '../../src/cli/node-flags.ts'
import type { Cleanup } from './resources.ts'
import { testServices } from './services.ts'

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))

export function cliEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '',
    KAFKA_BROKERS: testServices.kafkaBrokers.join(','),
    REDIS_ADDR: testServices.redisAddr,
    REDIS_PASSWORD: testServices.redisPassword,
    KAFKA_AUTOSTART: 'false',
    ...extra,
  }
}

export interface CliExit {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export interface CliRun {
  readonly child: ChildProcess
  /** What it wrote to stderr so far. */
  stderr(): string
  /** Resolves when it exits, with everything it wrote. */
  readonly done: Promise<CliExit>
  /** Kills it (SIGKILL) and waits for its exit. */
  kill(): Promise<void>
}

/** Starts `pipeline <args>` with `env` (cliEnv's services are the caller's to add); killed at the test's end. */
export function startCli(t: Cleanup, args: readonly string[], env: Record<string, string>): CliRun {
  const child = spawn(process.execPath, [...nodeFlags, main, ...args], {
    env: { ...nodeEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString()
  })
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString()
  })
  const exited = once(child, 'exit')
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  return {
    child,
    stderr: () => stderr,
    done: exited.then(([code]) => ({ code: code as number | null, stdout, stderr })),
    async kill() {
      child.kill('SIGKILL')
      await exited
    },
  }
}
