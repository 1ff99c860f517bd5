import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { loadConfig } from '../../src/config/index.ts'
import { consumerSettingsOf } from '../../src/consumer/index.ts'

describe('consumerSettingsOf', () => {
  it('takes the consumer service settings from the configuration', () => {
    const settings = consumerSettingsOf(
      loadConfig({
        KAFKA_BROKERS: 'k1:9092,k2:9092',
        KAFKA_TOPIC: 'orders',
        KAFKA_GROUP_ID: 'projector',
        KAFKA_PARTITIONS: '6',
        CONSUMER_BATCH_MAX: '250',
        CONSUMER_BATCH_WAIT_MS: '5',
        PENDING_MAX_AGE: '90s',
        KAFKA_GROUP_PROTOCOL: 'classic',
        CONSOLE_CHART_INTERVAL: '2s',
      }),
    )
    assert.deepEqual(settings.connection.bootstrapBrokers, ['k1:9092', 'k2:9092'])
    assert.match(settings.connection.clientId, /-consumer$/)
    assert.deepEqual(
      { ...settings, connection: undefined },
      {
        connection: undefined,
        topic: 'orders',
        groupId: 'projector',
        partitions: 6,
        batchMax: 250,
        batchWaitMs: 5,
        bufferMaxBytes: 32 * 1024 * 1024,
        batchMaxBytes: 8 * 1024 * 1024,
        recordMaxBytes: 1024 * 1024,
        maxEventSkewMs: 3_600_000,
        pendingMaxAgeMs: 90_000,
        eventLogRetentionMs: 7 * 24 * 3600 * 1000,
        groupProtocol: 'classic',
        seriesIntervalMs: 2000,
      },
    )
  })
})
