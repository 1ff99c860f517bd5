// The bench's options keep their names and defaults, and its clean-up registry removes what the scenarios
// created through it.
import assert from 'node:assert/strict'
import { existsSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { Context, Progress, parseOptions, scenarioNames } from '../../bench/context.ts'
import { generateWorkload } from '../../bench/workload.ts'
import { nodeFlags } from '../../src/cli/node-flags.ts'
import { redisHostPort, testServices } from '../helpers/services.ts'

describe('bench options', () => {
  it('full run by default, a short one with --quick', () => {
    const full = parseOptions([], {}, '/p/')
    assert.equal(full.quick, false)
    assert.deepEqual(
      { ...full.settings },
      {
        events: 200_000,
        runs: 3,
        partitions: 3,
        httpSeconds: 10,
        httpConnections: 64,
        latencySeconds: 10,
        latencyWarmupSeconds: 2,
        naiveMaxRecords: 10_000,
        warmupSeconds: 1,
        naiveMaxMs: 20_000,
        rssEvents: 1_000_000,
        javaRecords: 1_000_000,
        scalePartitions: 6,
        scaleConsumers: 3,
        scaleRuns: 3,
        dlqEntries: 1_000_000,
        logLevel: 'warn',
      },
    )
    assert.deepEqual([...full.scenarios], [...scenarioNames])
    assert.deepEqual([full.partial, full.history], [false, false])
    const quick = parseOptions(['--quick'], {}, '/p/').settings
    assert.deepEqual(
      [
        quick.events,
        quick.httpSeconds,
        quick.latencySeconds,
        quick.naiveMaxRecords,
        quick.rssEvents,
        quick.scaleRuns,
        quick.dlqEntries,
      ],
      [50_000, 2, 2, 1000, 0, 1, 100_000],
    )
  })

  it('explicit values win over --quick, --only picks scenarios, runs is at least 1', () => {
    const o = parseOptions(
      [
        '--quick',
        '--events',
        '1000',
        '--runs',
        '0',
        '--rss-events',
        '5',
        '--http-seconds',
        '1',
        '--dlq-entries',
        '2000',
        '--only',
        'read, Drain',
      ],
      {},
      '/p/',
    )
    assert.deepEqual(
      [o.settings.events, o.settings.runs, o.settings.rssEvents, o.settings.httpSeconds, o.settings.dlqEntries],
      [1000, 1, 5, 1, 2000],
    )
    assert.deepEqual([...o.scenarios], ['read', 'drain'])
    assert.deepEqual([o.partial, o.history], [true, false])
    assert.equal(parseOptions(['--quick', '--history'], {}, '/p/').history, true)
  })

  it('knows the rebuild scenario, and runs it by default', () => {
    assert.deepEqual([...parseOptions(['--only', 'copy,rebuild'], {}, '/p/').scenarios], ['copy', 'rebuild'])
    assert.ok(parseOptions([], {}, '/p/').scenarios.has('rebuild'))
  })

  it('refuses a scenario it does not know, naming the ones it does', () => {
    assert.throws(() => parseOptions(['--only', 'drain,rsss'], {}, '/p/'), /no scenario named rsss; .*scale/)
  })

  it('log level from --log-level, else LOG_LEVEL, lower-cased', () => {
    assert.equal(parseOptions([], { LOG_LEVEL: 'INFO' }, '/p/').settings.logLevel, 'info')
    assert.equal(parseOptions(['--log-level', 'debug'], { LOG_LEVEL: 'INFO' }, '/p/').settings.logLevel, 'debug')
  })

  it("workers get the pipeline's Node flags, then profiling and BENCH_NODE_FLAGS; BENCH_RSS_FLAGS is the other variant", () => {
    const o = parseOptions(
      ['--cpu-prof'],
      { BENCH_NODE_FLAGS: ' --trace-gc ', BENCH_RSS_FLAGS: '--max-old-space-size=200' },
      '/p/',
    )
    assert.deepEqual(o.spawnOptions.execArgv, [...nodeFlags, '--cpu-prof', '--cpu-prof-dir=/p/', '--trace-gc'])
    assert.deepEqual(o.otherHeapFlags, ['--max-old-space-size=200'])
    assert.deepEqual(parseOptions([], {}, '/p/').otherHeapFlags, [])
    const alloc = parseOptions(['--alloc-prof'], {}, '/p/').spawnOptions.execArgv ?? []
    assert.deepEqual(alloc.slice(0, -1), [...nodeFlags, '--import'])
    assert.match(alloc.at(-1) ?? '', /bench\/alloc-sampler\.ts$/)
  })

  it('refuses an unknown option', () => {
    assert.throws(() => parseOptions(['--fast'], {}, '/p/'), /--fast/)
  })
})

describe('bench clean-up registry', () => {
  it('removes the SQLite files and Redis keys made through it', async () => {
    const options = parseOptions(['--quick'], {}, '/p/')
    const ctx = new Context(options, generateWorkload({ events: 10, partitions: 3 }), new Progress())
    const file = ctx.freshSqlite()
    writeFileSync(file, 'x')
    const key = ctx.freshDlqKey()
    const redis = new Redis({ ...redisHostPort(), password: testServices.redisPassword || undefined })
    try {
      await redis.lpush(key, 'entry')
      await ctx.cleanup()
      assert.equal(existsSync(dirname(file)), false, 'the SQLite file and its folder are removed')
      assert.equal(await redis.exists(key), 0, 'the DLQ key is removed')
    } finally {
      await redis.del(key)
      redis.disconnect()
    }
  })
})
