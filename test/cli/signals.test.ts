// SIGTERM to the process a person or a process manager started (`npm start`) drains and stops the pipeline:
// every port is free again within 10 s. npm forwards the signal to its child, and the start script execs node,
// so that child is the pipeline itself.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { connect } from 'node:net'
import { it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { eventually } from '../helpers/kafka.ts'
import { freePort } from '../helpers/pipeline.ts'
import { kafkaTopic, sqliteFile, uniqueName } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** Whether something accepts connections on the port. */
function answers(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

it('SIGTERM to npm start stops the pipeline and frees its ports within 10 s', async t => {
  const ports = [await freePort(), await freePort(), await freePort()]
  const npm = spawn('npm', ['start'], {
    cwd: root,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '',
      PRODUCER_PORT: String(ports[0]),
      CONSUMER_PORT: String(ports[1]),
      API_PORT: String(ports[2]),
      HOST: '127.0.0.1',
      KAFKA_BROKERS: testServices.kafkaBrokers.join(','),
      KAFKA_AUTOSTART: 'false',
      KAFKA_TOPIC: await kafkaTopic(t),
      KAFKA_GROUP_ID: uniqueName('g'),
      DATABASE_URL: `sqlite:${sqliteFile(t)}`,
      REDIS_ADDR: testServices.redisAddr,
      REDIS_PASSWORD: testServices.redisPassword,
      DLQ_KEY: uniqueName('dlq'),
      LOG_LEVEL: 'WARN',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  const exited = once(npm, 'exit')
  t.after(() => {
    if (npm.exitCode === null) npm.kill('SIGKILL')
  })
  const stderr: string[] = []
  npm.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')))
  await eventually(
    'all three ports answer',
    async () => (await Promise.all(ports.map(answers))).every(Boolean),
    60_000,
    () => stderr.join(''),
  )

  const started = Date.now()
  npm.kill('SIGTERM')
  await eventually(
    'every port free again',
    async () => !(await Promise.all(ports.map(answers))).some(Boolean),
    10_000,
    () => stderr.join(''),
  )
  const ms = Date.now() - started
  await exited
  assert.ok(ms < 10_000, `ports free after ${ms} ms`)
  assert.equal(npm.exitCode, 0, stderr.join(''))
})
