// `npm run dev:services [up|down|status]`: Kafka, PostgreSQL and Redis of dev/compose.yml on their loopback ports,
// with docker compose or podman compose, for a machine that has none of its own. `up` starts those whose port is
// free (a port taken by a service of the machine's own is left to it) and waits until each answers; `down` removes
// the containers and their data.
import { connect } from 'node:net'
import { composeCommand, runCompose } from './compose.ts'
import { waitFor } from './ensure.ts'
import { composeService, defaultPostgresUrl, type ServiceName } from './service-plan.ts'

export const loopbackPorts: Record<ServiceName, number> = { Kafka: 9092, PostgreSQL: 5432, Redis: 6379 }

/** Whether something accepts TCP connections on 127.0.0.1:`port` (within 1 s). */
function portTaken(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const socket = connect({ host: '127.0.0.1', port, timeout: 1000 })
    const done = (taken: boolean) => {
      socket.destroy()
      resolve(taken)
    }
    socket.once('connect', () => done(true))
    socket.once('timeout', () => done(false))
    socket.once('error', () => done(false))
  })
}

const say = (line: string) => console.log(`dev:services: ${line}`)
const command = process.argv[2] ?? 'up'
const compose = composeCommand()
if (compose === undefined) {
  say(
    'neither docker compose nor podman compose is installed: install one (Docker Desktop, or Podman with podman-compose)',
  )
  process.exit(1)
}
if (command === 'up') {
  const all = Object.keys(loopbackPorts) as ServiceName[]
  const taken = await Promise.all(all.map(s => portTaken(loopbackPorts[s])))
  const start = all.filter((_, i) => !taken[i])
  for (const s of all.filter((_, i) => taken[i])) {
    say(`127.0.0.1:${loopbackPorts[s]} is taken: not starting ${s} (the one answering there is used)`)
  }
  if (start.length > 0) runCompose(compose, ['up', '-d', ...start.map(s => composeService[s])])
  let failed = false
  for (const s of start) {
    const why = await waitFor(s, 120_000)
    if (why !== undefined) failed = true
    say(why === undefined ? `${s} answers on 127.0.0.1:${loopbackPorts[s]}` : `${s} does not answer: ${why}`)
  }
  if (start.includes('PostgreSQL')) say(`PostgreSQL's login: ${defaultPostgresUrl} (the tests' default)`)
  process.exit(failed ? 1 : 0)
} else if (command === 'down') {
  runCompose(compose, ['down', '--volumes'])
} else if (command === 'status') {
  runCompose(compose, ['ps'])
} else {
  say(`unknown command ${command}: up, down or status`)
  process.exit(2)
}
