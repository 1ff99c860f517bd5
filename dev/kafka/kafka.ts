// npm run kafka:start | kafka:stop | kafka:status — the local broker of dev/kafka/local-broker.ts.
import { LOCAL_BROKER, localBrokerAnswers, runningPid, startLocalKafka, stopLocalKafka } from './local-broker.ts'

const command = process.argv[2]
const say = (line: string) => console.log(`kafka: ${line}`)

try {
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
      console.error('usage: node dev/kafka/kafka.ts start|stop|status')
      process.exitCode = 2
  }
} catch (error) {
  console.error(`kafka: ${(error as Error).message}`)
  process.exitCode = 1
}
