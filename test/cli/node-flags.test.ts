import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { nodeEnv, nodeFlags } from '../../src/cli/node-flags.ts'

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')

describe('node flags', () => {
  it('are the ones npm start, npm run pipeline, the installed command and the container start it with', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts
    // npm's scripts go through the development launcher, which runs the pipeline in its own process; `exec`
    // makes node npm's own child, so the SIGTERM npm forwards reaches the pipeline (test/cli/signals.test.ts).
    const assignments = Object.entries(nodeEnv).map(([name, value]) => `${name}=${value}`)
    const command = [...assignments, 'exec', 'node', ...nodeFlags, 'dev/start.ts'].join(' ')
    assert.equal(scripts['start'], `${command} all`)
    assert.equal(scripts['pipeline'], command)
    const entrypoint = /^ENTRYPOINT (.+)$/m.exec(read('deploy/Dockerfile'))?.[1]
    assert.deepEqual(JSON.parse(entrypoint ?? 'null'), ['node', ...nodeFlags, 'dist/main.js'])
    for (const assignment of assignments)
      assert.match(read('deploy/Dockerfile'), new RegExp(`^ENV ${assignment}$`, 'm'))
    // The installed command's shebang (bin/event-pipeline.js).
    assert.equal(
      read('bin/event-pipeline.js').split('\n')[0],
      `#!/usr/bin/env -S ${[...assignments, 'node', ...nodeFlags].join(' ')}`,
    )
  })

  it('are accepted by this Node and keep the young generation at 2 × 16 MB under allocation', () => {
    // Enough short-lived garbage that V8 would grow the young generation to its default maximum.
    const script = `
      const v8 = require('node:v8')
      let keep = []
      for (let i = 0; i < 3e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 5e4) keep = [] }
      const young = v8.getHeapSpaceStatistics().find(s => s.space_name === 'new_space')
      process.stdout.write(String(young.space_size))`
    const run = spawnSync(process.execPath, [...nodeFlags, '-e', script], { encoding: 'utf8' })
    assert.equal(run.status, 0, run.stderr)
    assert.ok(Number(run.stdout) <= 32 * 2 ** 20, `young generation ${run.stdout} bytes`)
  })
})
