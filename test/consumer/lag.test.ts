import assert from 'node:assert/strict'
import { it } from 'node:test'
import { recordLag } from '../../src/consumer/lag.ts'
import { consumerMetrics, createRegistry } from '../../src/observability/index.ts'

async function series(registry: ReturnType<typeof createRegistry>): Promise<string[]> {
  return (await registry.metrics())
    .split('\n')
    .filter(line => line.startsWith('consumer_lag{'))
    .sort()
}

it('keeps one consumer_lag series per owned partition and drops those the member no longer owns', async () => {
  const registry = createRegistry('consumer', false)
  const { lag } = consumerMetrics(registry)
  recordLag(lag, new Map([['events', [5n, 0n, 12n]]]))
  assert.deepEqual(await series(registry), [
    'consumer_lag{topic="events",partition="0",role="consumer"} 5',
    'consumer_lag{topic="events",partition="1",role="consumer"} 0',
    'consumer_lag{topic="events",partition="2",role="consumer"} 12',
  ])
  // After a rebalance this member owns partition 1 only: -1 is the client's "not assigned".
  recordLag(lag, new Map([['events', [-1n, 3n, -1n]]]))
  assert.deepEqual(await series(registry), ['consumer_lag{topic="events",partition="1",role="consumer"} 3'])
  // -2 (filtered out of the request) says nothing about the partition: its series stays.
  recordLag(lag, new Map([['events', [-2n, -2n, -2n]]]))
  assert.deepEqual(await series(registry), ['consumer_lag{topic="events",partition="1",role="consumer"} 3'])
})
