// A private Kafka broker for fault tests that stop and restart it: same jars and settings as the local
// broker, but its own ports and data directory, so the shared broker (and every other test) is untouched.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { brokerAnswers, fetchJars, javaArgs, paths } from '../../scripts/kafka/local-broker.ts'
import { freePort } from './pipeline.ts'
import type { Cleanup } from './resources.ts'

export interface PrivateBroker {
  readonly address: string
  start(): Promise<void>
  stop(): Promise<void>
}

export async function privateBroker(t: Cleanup): Promise<PrivateBroker> {
  fetchJars(() => {})
  const home = mkdtempSync(join(tmpdir(), 'ep-kafka-'))
  const port = await freePort()
  const controller = await freePort()
  const properties = readFileSync(paths.serverProperties, 'utf8')
    .replaceAll('127.0.0.1:9092', `127.0.0.1:${port}`)
    .replaceAll('127.0.0.1:9093', `127.0.0.1:${controller}`)
  const config = join(home, 'server.properties')
  writeFileSync(config, properties)
  mkdirSync(join(home, 'logs'))
  const format = spawnSync(
    'java',
    javaArgs(['kafka.tools.StorageTool', 'format', '--standalone', '-t', randomBytes(16).toString('base64url'), '-c', config]),
    { cwd: home, encoding: 'utf8' },
  )
  if (format.status !== 0) throw new Error(`format failed: ${format.stderr}`)
  const address = `127.0.0.1:${port}`
  let child: ChildProcess | undefined

  const broker: PrivateBroker = {
    address,
    async start() {
      child = spawn('java', ['-Xms128m', '-Xmx512m', ...javaArgs(['kafka.Kafka', config])], { cwd: home, stdio: 'ignore' })
      const deadline = Date.now() + 60_000
      while (!(await brokerAnswers([address], 1000))) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error('private broker did not start')
        await new Promise(resolve => setTimeout(resolve, 300))
      }
    },
    async stop() {
      if (child === undefined || child.exitCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGKILL')
      await exited
    },
  }
  t.after(async () => {
    await broker.stop()
    rmSync(home, { recursive: true, force: true })
  })
  return broker
}
