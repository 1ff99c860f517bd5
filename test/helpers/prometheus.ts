// A real Prometheus (prometheus on the PATH: a test calling this skips first when findTool('prometheus') misses it) for one test: its own configuration and data directory under .tmp, a free
// loopback port, stopped and removed after the test. Queries go through its HTTP API, each with a timeout.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { findTool } from '../../dev/tools.ts'
import { eventually } from './kafka.ts'
import { freePort } from './pipeline.ts'
import { type Cleanup, uniqueName } from './resources.ts'

export interface Sample {
  metric: Record<string, string>
  value: [number, string]
}

export interface RunningPrometheus {
  readonly url: string
  readonly child: ChildProcess
  /** An instant query's vector (throws on an error answer). */
  query(promql: string): Promise<Sample[]>
  /** GET of an API path (such as /api/v1/targets), its `data`. */
  api<T>(path: string): Promise<T>
}

const tmp = fileURLToPath(new URL('../../.tmp/', import.meta.url))

/** Keeps the last lines a process printed: enough to explain a failure, bounded whatever it prints. */
function tail(max = 40) {
  const lines: string[] = []
  return {
    add: (chunk: Buffer) => {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean))
      lines.splice(0, Math.max(0, lines.length - max))
    },
    text: () => lines.join('\n'),
  }
}

export async function startPrometheus(t: Cleanup, config: string): Promise<RunningPrometheus> {
  const found = findTool('prometheus')
  if (found.missing !== undefined) throw new Error(found.missing)
  const binary = found.path
  const dir = `${tmp}${uniqueName('prometheus')}`
  mkdirSync(`${dir}/data`, { recursive: true })
  writeFileSync(`${dir}/prometheus.yml`, config)
  const port = await freePort()
  const output = tail()
  const child = spawn(
    binary,
    [
      `--config.file=${dir}/prometheus.yml`,
      `--storage.tsdb.path=${dir}/data`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  child.stdout?.on('data', output.add)
  child.stderr?.on('data', output.add)
  const exited = once(child, 'exit')
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
    rmSync(dir, { recursive: true, force: true })
  })

  const url = `http://127.0.0.1:${port}`
  async function api<T>(path: string): Promise<T> {
    const response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(5000) })
    const body = (await response.json()) as { status: string; data: T; error?: string }
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error ?? response.status}`)
    return body.data
  }
  await eventually(
    'Prometheus to be ready',
    async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}:\n${output.text()}`)
      return fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) }).then(
        r => r.ok,
        () => false,
      )
    },
    30_000,
    output.text,
  )
  return {
    url,
    child,
    api,
    query: async promql =>
      (await api<{ result: Sample[] }>(`/api/v1/query?query=${encodeURIComponent(promql)}`)).result,
  }
}
