// The log a rebuild needs is kept: the pipeline creates its topic with retention.ms=-1 and retention.bytes=-1,
// and a consumer starting on a topic whose settings delete records is warned, naming them.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Admin } from '@platformatic/kafka'
import { deleteTopics } from '../../dev/resources.ts'
import { checkDependencies } from '../../src/cli/startup-checks.ts'
import { loadConfig } from '../../src/config/index.ts'
import { ensureTopic, topicRetention } from '../../src/kafka/index.ts'
import { uniqueName } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'

const connection = { clientId: 'test-retention', bootstrapBrokers: [...testServices.kafkaBrokers] }

const configFor = (topic: string) =>
  loadConfig({
    KAFKA_BROKERS: testServices.kafkaBrokers.join(','),
    KAFKA_TOPIC: topic,
    REDIS_ADDR: testServices.redisAddr,
    REDIS_PASSWORD: testServices.redisPassword,
  })

describe('topic retention', () => {
  it('creates the topic keeping every record, and starts a consumer on it without a warning', async t => {
    const topic = uniqueName('test-keep').replaceAll('_', '-')
    t.after(() => deleteTopics([topic]).catch(() => {}))
    await ensureTopic(connection, topic, 2)
    assert.deepEqual(await topicRetention(connection, topic), {
      retentionMs: -1,
      retentionBytes: -1,
      cleanupPolicy: 'delete',
    })
    const warnings: string[] = []
    await checkDependencies(configFor(topic), ['consumer'], line => warnings.push(line))
    assert.deepEqual(warnings, [])
  })

  it('warns a consumer starting on a topic that deletes records, and not the producer', async t => {
    // Created as a topic made by hand often is: the broker's default retention (24 h on the test broker).
    const topic = uniqueName('test-deletes').replaceAll('_', '-')
    t.after(() => deleteTopics([topic]).catch(() => {}))
    const admin = new Admin({ ...connection, clientId: 'test-admin' })
    try {
      await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 })
    } finally {
      await admin.close()
    }
    const warnings: string[] = []
    await checkDependencies(configFor(topic), ['consumer'], line => warnings.push(line))
    assert.equal(warnings.length, 1)
    assert.match(warnings[0] ?? '', new RegExp(`topic ${topic} deletes records \\(retention\\.ms=86400000\\)`))
    assert.match(warnings[0] ?? '', /cannot be rebuilt from the log/)
    const producer: string[] = []
    await checkDependencies(configFor(topic), ['producer'], line => producer.push(line))
    assert.deepEqual(producer, [])
  })
})
