// The compose files as compose itself reads them: `config -q` on deploy/docker-compose.yml (with every password
// variable set, as an operator's deploy/.env would) and on dev/compose.yml, with whichever compose this machine
// has. Without one the test is skipped, saying so; the checks of test/deploy/compose.test.ts run everywhere.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { composeCommand, composeFile } from '../../dev/compose.ts'
import { sampleEnvironment } from './exposure.ts'

const deployFile = fileURLToPath(new URL('../../deploy/docker-compose.yml', import.meta.url))
const noCompose = 'no docker compose, podman compose, docker-compose 2 or podman-compose on the PATH'

it('validates both compose files with compose config -q', t => {
  const command = composeCommand()
  if (command === undefined) return t.skip(noCompose)
  const [program, ...words] = command
  const env = { ...process.env, ...sampleEnvironment(readFileSync(deployFile, 'utf8')) }
  for (const file of [deployFile, composeFile]) {
    const r = spawnSync(program as string, [...words, '-f', file, 'config', '-q'], {
      env,
      encoding: 'utf8',
      timeout: 60_000,
    })
    assert.equal(r.status, 0, `${command.join(' ')} -f ${file} config -q: ${r.stderr || r.error?.message}`)
  }
})
