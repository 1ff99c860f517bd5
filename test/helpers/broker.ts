// A private Kafka broker for fault tests that stop and restart it: same jars and settings as the local
// broker (dev/kafka/server.properties through brokerProperties), but its own ports and data directory, so the
// shared broker (and every other test) is untouched.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  brokerJvmArgs,
  brokerProperties,
  fetchJars,
  formatKraftStorage,
  newClusterId,
} from '../../dev/kafka/local-broker.ts'
import { kafkaAnswers } from '../../src/kafka/cluster-admin.ts'
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
const saslProperties = (port: number, controller: number) => ({
  listeners: `SASL_PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`,
  'advertised.listeners': `SASL_PLAINTEXT://127.0.0.1:${port}`,
  'inter.broker.listener.name': 'SASL_PLAINTEXT',
  'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT',
  'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256',
  'sasl.mechanism.inter.broker.protocol': 'PLAIN',
  'listener.name.sasl_plaintext.plain.sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_${saslUsers.plain.username}="${saslUsers.plain.password}";`,
  'listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config':
    'org.apache.kafka.common.security.scram.ScramLoginModule required;',
})

export async function privateBroker(t: Cleanup, options: { sasl?: boolean } = {}): Promise<PrivateBroker> {
  fetchJars(() => {})
  const home = mkdtempSync(join(tmpdir(), 'ep-kafka-'))
  const port = await freePort()
  const controller = await freePort()
  const config = join(home, 'server.properties')
  const listeners = options.sasl
    ? saslProperties(port, controller)
    : {
        listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`,
        'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
      }
  writeFileSync(
    config,
    brokerProperties({ ...listeners, 'controller.quorum.bootstrap.servers': `127.0.0.1:${controller}` }),
  )
  mkdirSync(join(home, 'logs'))
  formatKraftStorage(
    config,
    home,
    newClusterId(),
    ['--standalone'],
    options.sasl
      ? ['--add-scram', `SCRAM-SHA-256=[name=${saslUsers.scram.username},password=${saslUsers.scram.password}]`]
      : [],
  )
  const address = `127.0.0.1:${port}`
  let child: ChildProcess | undefined

  const broker: PrivateBroker = {
    address,
    async start() {
      child = spawn('java', brokerJvmArgs(config, { min: 128, max: 512 }), {
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
