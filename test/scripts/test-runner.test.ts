// scripts/test.ts (`npm test`) on a machine that lacks things, run for real in a child process: a missing service
// stops it with one line per service saying what to start or set, and a missing program makes its tests skip,
// with the reason printed once up front and by node:test for each test.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { dirname } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))

function runTests(args: string[], env: Record<string, string>) {
  // Without node:test's own marker, which would make the child's node --test decline to run files inside a test.
  const { NODE_TEST_CONTEXT: _, ...parent } = process.env
  const r = spawnSync(process.execPath, ['scripts/test.ts', '--no-checks', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 16 * 2 ** 20,
    env: { ...parent, ...env },
  })
  return { status: r.status, out: `${r.stdout}${r.stderr}` }
}

describe('npm test on a machine that lacks things', () => {
  it('stops with one line per service that does not answer, naming the variable to correct', () => {
    const { status, out } = runTests(['test/dev/service-plan.test.ts'], {
      KAFKA_BROKERS: '127.0.0.1:1',
      REDIS_ADDR: '127.0.0.1:1',
      REDIS_CLUSTER: '',
      TEST_POSTGRES_URL: 'postgres://someone:secret@127.0.0.1:1/postgres',
    })
    assert.equal(status, 1, out)
    const lines = out.split('\n').filter(l => l.startsWith('test: '))
    assert.equal(lines.length, 3, out)
    assert.match(lines[0] ?? '', /^test: Kafka: nothing usable answers at 127\.0\.0\.1:1 .*correct KAFKA_BROKERS$/)
    assert.match(
      lines[1] ?? '',
      /^test: PostgreSQL: nothing usable answers at 127\.0\.0\.1:1 as someone .*correct TEST_POSTGRES_URL$/,
    )
    assert.match(lines[2] ?? '', /^test: Redis: nothing usable answers at 127\.0\.0\.1:1 .*correct REDIS_ADDR$/)
    assert.ok(!out.includes('secret'), 'the password is not printed')
    assert.ok(!out.includes('node --test'), 'no test ran')
  })

  it('skips the tests of a program that is not on the PATH, saying why, and passes', () => {
    // A PATH with node alone: no promtool, no apt-get (so nothing is installed, even as root).
    const { status, out } = runTests(['--no-services', 'test/deploy/alerts.test.ts'], {
      PATH: dirname(process.execPath),
    })
    assert.equal(status, 0, out)
    const reason = /^test: skipping the tests that need promtool: (no promtool on the PATH: .+)$/m.exec(out)?.[1]
    assert.ok(reason !== undefined, out)
    assert.ok(out.includes(`passes promtool check rules`), out)
    assert.equal(out.split(`# ${reason}`).length - 1, 2, 'both promtool tests skip with the reason')
    assert.match(out, /ℹ skipped 2/)
    assert.match(out, /ℹ fail 0/)
  })

  it('skips the tests that start Redis servers of their own when there is no redis-server, saying why', () => {
    const { status, out } = runTests(
      ['--no-services', 'test/consumer/redis-restart.test.ts', 'test/dlq/cluster.test.ts'],
      {
        PATH: dirname(process.execPath),
      },
    )
    assert.equal(status, 0, out)
    const reason = /^test: skipping the tests that need redis-server: (no redis-server on the PATH: .+)$/m.exec(
      out,
    )?.[1]
    assert.ok(reason !== undefined, out)
    assert.match(out, /^test: skipping the tests that need redis-cli: no redis-cli on the PATH: /m)
    assert.equal(out.split(`# ${reason}`).length - 1, 2, 'the restart test and the cluster suite skip with the reason')
    assert.match(out, /ℹ fail 0/)
  })
})
