// npm run kafka:start | kafka:stop | kafka:status [-- --brokers 3]: the local broker of dev/kafka/local-broker.ts,
// or with --brokers 3 the three-node cluster of dev/kafka/cluster.ts (its own ports and folder; both may run).
import { parseArgs } from 'node:util'
import { LOCAL_CLUSTER, openCluster, startCluster, stopCluster } from './cluster.ts'
import { LOCAL_BROKER, localBrokerAnswers, runningPid, startLocalKafka, stopLocalKafka } from './local-broker.ts'

const usage = 'usage: node dev/kafka/kafka.ts start|stop|status [--brokers 1|3]'
const say = (line: string) => console.log(`kafka: ${line}`)

async function single(command: string | undefined): Promise<void> {
  switch (command) {
    case 'start': {
      const result = await startLocalKafka(say)
      say(result === 'already-running' ? `a broker already answers on ${LOCAL_BROKER}` : `ready on ${LOCAL_BROKER}`)
      break
    }
    case 'stop':
      say((await stopLocalKafka(say)) ? 'stopped' : 'no broker started by this project is running')
      break
    case 'status': {
      const answers = await localBrokerAnswers()
      const pid = runningPid()
      say(`${answers ? 'answering' : 'not answering'} on ${LOCAL_BROKER}${pid ? ` (local broker pid ${pid})` : ''}`)
      process.exitCode = answers ? 0 : 1
      break
    }
    default:
      console.error(usage)
      process.exitCode = 2
  }
}

async function cluster(command: string | undefined): Promise<void> {
  const addresses = LOCAL_CLUSTER.brokerPorts.map(p => `127.0.0.1:${p}`).join(',')
  switch (command) {
    case 'start':
      await startCluster({ ...LOCAL_CLUSTER, log: say })
      say(`ready: KAFKA_BROKERS=${addresses}`)
      break
    case 'stop':
      say((await stopCluster(LOCAL_CLUSTER.home, say)) ? 'cluster stopped' : 'no node of the cluster is running')
      break
    case 'status': {
      const c = openCluster(LOCAL_CLUSTER.home)
      if (c === undefined) {
        say(`no cluster under ${LOCAL_CLUSTER.home} (npm run kafka:start -- --brokers 3)`)
        process.exitCode = 1
        break
      }
      const answers = await c.answers()
      for (const node of c.nodes()) {
        say(`node ${node.id} ${node.address}: ${node.pid === undefined ? 'not running' : `pid ${node.pid}`}`)
      }
      say(`${answers ? 'answering' : 'not answering'} on ${addresses}`)
      process.exitCode = answers ? 0 : 1
      break
    }
    default:
      console.error(usage)
      process.exitCode = 2
  }
}

try {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { brokers: { type: 'string', default: '1' } },
  })
  if (values.brokers === '1') await single(positionals[0])
  else if (values.brokers === String(LOCAL_CLUSTER.brokerPorts.length)) await cluster(positionals[0])
  else {
    console.error(`kafka: --brokers is 1 (the local broker) or 3 (the local cluster), not ${values.brokers}\n${usage}`)
    process.exitCode = 2
  }
} catch (error) {
  console.error(`kafka: ${(error as Error).message}`)
  process.exitCode = 1
}
