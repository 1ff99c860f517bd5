// A private Kafka broker for fault tests that stop and restart it: same jars and settings as the local
// broker, but its own ports and data directory, so the shared broker (and every other test) is untouched.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fetchJars, javaArgs, newClusterId, paths } from '../../dev/kafka/local-broker.ts'
import { kafkaAnswers } from '../../src/kafka/admin.ts'
import { freePort } from './pipeline.ts'
import type { Cleanup } from './resources.ts'

export interface PrivateBroker {
  readonly address: string
  start(): Promise<void>
  stop(): Promise<void>
}

/** Users of a broker started with `sasl: true`: PLAIN user `app` and SCRAM-SHA-256 user `scram-app`. */
export const saslUsers = {
  plain: { username: 'app', password: 'app-secret' },
  scram: { username: 'scram-app', password: 'scram-secret' },
} as const

// The broker itself talks PLAIN to itself as `admin`; clients may use PLAIN or SCRAM-SHA-256.
const saslProperties = (port: number) => `
listeners=SASL_PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:CONTROLLER_PORT
advertised.listeners=SASL_PLAINTEXT://127.0.0.1:${port}
inter.broker.listener.name=SASL_PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256
sasl.mechanism.inter.broker.protocol=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_${saslUsers.plain.username}="${saslUsers.plain.password}";
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
`

export async function privateBroker(t: Cleanup, options: { sasl?: boolean } = {}): Promise<PrivateBroker> {
  fetchJars(() => {})
  const home = mkdtempSync(join(tmpdir(), 'ep-kafka-'))
  const port = await freePort()
  const controller = await freePort()
  let properties = readFileSync(paths.serverProperties, 'utf8')
  if (options.sasl) {
    properties = properties
      .split('\n')
      .filter(
        line =>
          !/^(listeners|advertised\.listeners|inter\.broker\.listener\.name|listener\.security\.protocol\.map)=/.test(
            line,
          ),
      )
      .join('\n')
      .concat(saslProperties(port))
  }
  properties = properties
    .replaceAll('127.0.0.1:9092', `127.0.0.1:${port}`)
    .replaceAll('127.0.0.1:9093', `127.0.0.1:${controller}`)
    .replaceAll('CONTROLLER_PORT', String(controller))
  const config = join(home, 'server.properties')
  writeFileSync(config, properties)
  mkdirSync(join(home, 'logs'))
  const format = spawnSync(
    'java',
    javaArgs([
      'kafka.tools.StorageTool',
      'format',
      '--standalone',
      `--cluster-id=${newClusterId()}`,
      '-c',
      config,
      ...(options.sasl
        ? ['--add-scram', `SCRAM-SHA-256=[name=${saslUsers.scram.username},password=${saslUsers.scram.password}]`]
        : []),
    ]),
    { cwd: home, encoding: 'utf8' },
  )
  if (format.status !== 0) throw new Error(`format failed: ${format.stderr}`)
  const address = `127.0.0.1:${port}`
  let child: ChildProcess | undefined

  const broker: PrivateBroker = {
    address,
    async start() {
      child = spawn('java', ['-Xms128m', '-Xmx512m', ...javaArgs(['kafka.Kafka', config])], {
        cwd: home,
        stdio: 'ignore',
      })
      const deadline = Date.now() + 60_000
      const probe = {
        clientId: 'test-private-broker',
        bootstrapBrokers: [address],
        ...(options.sasl ? { sasl: { mechanism: 'PLAIN' as const, ...saslUsers.plain } } : {}),
      }
      while (!(await kafkaAnswers(probe, 1000))) {
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
