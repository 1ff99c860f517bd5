// dev/compose.yml, the development services: each image pinned to one release (Kafka the local broker's version),
// ports on loopback only, the broker configured as dev/kafka/server.properties is, and PostgreSQL's password the one
// of the tests' default URL.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { composeArgs, composeFile, composeServices, pickCompose, readsComposeSpec } from '../../dev/compose.ts'
import { defaultPostgresUrl } from '../../dev/service-plan.ts'
import { pinProblem } from '../deploy/pins.ts'

const read = (file: string) => readFileSync(fileURLToPath(new URL(`../../${file}`, import.meta.url)), 'utf8')
type Service = { image: string; ports: string[]; environment?: Record<string, string> }
const compose = parse(readFileSync(composeFile, 'utf8')) as { services: Record<string, Service> }
const service = (name: string) => {
  const s = compose.services[name]
  assert.ok(s, name)
  return s
}

describe('dev/compose.yml', () => {
  it('has exactly Kafka, PostgreSQL and Redis, each pinned to one release', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), [...composeServices].sort())
    assert.equal(pinProblem(service('kafka').image), undefined)
    assert.equal(pinProblem(service('redis').image), undefined)
    // PostgreSQL numbers its releases major.minor: 17.6 is one release.
    assert.match(service('postgres').image, /^postgres:\d+\.\d+-alpine$/)
    const kafkaVersion = /<kafka\.version>([^<]+)</.exec(read('dev/kafka/pom.xml'))?.[1]
    assert.equal(service('kafka').image, `apache/kafka:${kafkaVersion}`)
  })

  it('publishes each on its usual port of 127.0.0.1 only', () => {
    assert.deepEqual(service('kafka').ports, ['127.0.0.1:9092:9092'])
    assert.deepEqual(service('postgres').ports, ['127.0.0.1:5432:5432'])
    assert.deepEqual(service('redis').ports, ['127.0.0.1:6379:6379'])
  })

  it("gives PostgreSQL the password of the tests' default URL", () => {
    const url = new URL(defaultPostgresUrl)
    assert.equal(url.username, 'postgres')
    assert.equal(service('postgres').environment?.['POSTGRES_PASSWORD'], url.password)
  })

  it('configures Kafka as the local broker is, but for its listeners and log folder', () => {
    const properties = Object.fromEntries(
      read('dev/kafka/server.properties')
        .split('\n')
        .filter(l => l.trim() !== '' && !l.startsWith('#'))
        .map(l => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    )
    const env = service('kafka').environment ?? {}
    const asVariable = (key: string) => `KAFKA_${key.toUpperCase().replaceAll('.', '_')}`
    // A container listens on all its interfaces (published on loopback only) and quorum voters name itself.
    const differ = new Set(['listeners', 'log.dirs', 'controller.quorum.bootstrap.servers'])
    for (const [key, value] of Object.entries(properties)) {
      if (differ.has(key)) continue
      assert.equal(env[asVariable(key)], value, key)
    }
    assert.equal(env['KAFKA_ADVERTISED_LISTENERS'], 'PLAINTEXT://127.0.0.1:9092')
    assert.equal(Buffer.from(env['CLUSTER_ID'] ?? '', 'base64url').length, 16, 'a Kafka Uuid')
  })

  it('is run by docker compose, else podman compose, else the standalone commands', () => {
    const having =
      (...commands: string[]) =>
      (words: readonly string[]) =>
        commands.includes(words.join(' '))
    assert.deepEqual(pickCompose(having('docker compose', 'podman compose')), ['docker', 'compose'])
    // docker without its compose plugin answers no `docker compose version`.
    assert.deepEqual(pickCompose(having('podman compose', 'docker-compose')), ['podman', 'compose'])
    assert.deepEqual(pickCompose(having('podman-compose')), ['podman-compose'])
    assert.equal(pickCompose(having()), undefined)
  })

  it('passes over the standalone docker-compose 1.x, which refuses the Compose Specification', () => {
    assert.equal(readsComposeSpec(['docker-compose'], '1.29.2\n'), false)
    assert.equal(readsComposeSpec(['docker-compose'], 'v2.29.7\n'), true)
    assert.equal(readsComposeSpec(['docker-compose'], 'garbage'), false)
    assert.equal(readsComposeSpec(['docker', 'compose'], '2.29.7'), true)
    assert.equal(readsComposeSpec(['podman-compose'], '1.0.6'), true)
  })

  it('is run with -f dev/compose.yml by any compose command', () => {
    assert.deepEqual(composeArgs(['docker', 'compose'], ['up', '-d']), [
      'docker',
      ['compose', '-f', composeFile, 'up', '-d'],
    ])
    assert.deepEqual(composeArgs(['podman-compose'], ['ps']), ['podman-compose', ['-f', composeFile, 'ps']])
  })
})
