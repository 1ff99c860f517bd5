// `npm start` and `npm run pipeline`: the `pipeline` command, with the project's local Kafka broker started first
// when the configuration names the default localhost:9092, KAFKA_AUTOSTART is true and nothing answers there.
// The pipeline runs in this process (imported, not spawned), so SIGTERM and Ctrl-C reach it directly.

import { runPipeline } from '../src/cli/pipeline.ts'
import type { Config, Role } from '../src/config/index.ts'
import { kafkaAnswers } from '../src/kafka/cluster-admin.ts'
import { connectionOf } from '../src/kafka/options.ts'
import { startLocalKafka } from './kafka/local-broker.ts'

const localBrokers = new Set(['localhost:9092', '127.0.0.1:9092'])

async function ensureKafka(config: Config, roles: readonly Role[]): Promise<void> {
  if (!roles.includes('producer') && !roles.includes('consumer')) return
  const local = config.kafkaBrokers.length === 1 && localBrokers.has(config.kafkaBrokers[0] as string)
  if (!local || !config.kafkaAutostart) return
  if (await kafkaAnswers(connectionOf(config, 'launcher'), 2000)) return
  process.stderr.write(
    'pipeline: no Kafka answers on localhost:9092; starting the local broker (KAFKA_AUTOSTART=false to skip)\n',
  )
  await startLocalKafka(line => process.stderr.write(`pipeline: kafka: ${line}\n`))
}

process.exitCode = await runPipeline(process.argv.slice(2), { beforeServe: ensureKafka })
