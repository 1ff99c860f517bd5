// `npm test`: type check, lint, make sure Kafka, PostgreSQL and Redis answer (starting the ones that are
// down with this machine's commands) and Debian's prometheus package is installed, then run every test under
// test/ with node:test.
//   node scripts/test.ts [--no-checks] [--no-services] [--unit] [test files or globs…]
// --unit runs only the tests that need no service (dev/unit-tests.ts decides from their imports), and starts none.
import { spawnSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ensureDebianPackage } from '../dev/debian.ts'
import { ensureServices } from '../dev/ensure.ts'
import { unitTestFiles } from '../dev/unit-tests.ts'

const args = process.argv.slice(2)
const flags = new Set(args.filter(a => a.startsWith('--')))
const unit = args.includes('--unit')
const files = unit
  ? unitTestFiles(fileURLToPath(new URL('..', import.meta.url)))
  : args.filter(a => !a.startsWith('--'))
const say = (line: string) => console.log(`test: ${line}`)

function run(command: string, commandArgs: string[]): void {
  const r = spawnSync(command, commandArgs, { stdio: 'inherit' })
  if (r.status !== 0) {
    say(`${command} ${commandArgs.join(' ')} failed`)
    process.exit(r.status ?? 1)
  }
}

const started = Date.now()
if (!flags.has('--no-checks')) {
  say('type check (tsc --noEmit, the server and the console)')
  run('npx', ['tsc', '--noEmit'])
  run('npx', ['tsc', '--noEmit', '-p', 'src/admin/console'])
  say('lint (biome check)')
  run('npx', ['biome', 'check', '.'])
}
if (!flags.has('--no-services') && !unit) {
  try {
    await ensureServices(say)
  } catch (error) {
    say((error as Error).message)
    process.exit(1)
  }
  // promtool and prometheus for test/deploy, Chromium for the console's browser test (test/admin/console.test.ts),
  // installed once here rather than by test files running side by side; when that fails, those tests fail with
  // the same message.
  for (const [pkg, binary] of [
    ['prometheus', 'prometheus'],
    ['chromium', 'chromium'],
  ] as const) {
    try {
      ensureDebianPackage(pkg, binary, say)
    } catch (error) {
      say((error as Error).message)
    }
  }
}
const testArgs = [
  '--test',
  '--test-concurrency=2',
  '--test-timeout=300000',
  // A folder stands for every test file under it.
  ...(files.length > 0 ? files : ['test']).map(f =>
    existsSync(f) && statSync(f).isDirectory() ? `${f.replace(/\/$/, '')}/**/*.test.ts` : f,
  ),
]
say(`node ${testArgs.join(' ')}`)
const result = spawnSync(process.execPath, testArgs, { stdio: 'inherit' })
say(`finished in ${((Date.now() - started) / 1000).toFixed(0)} s`)
process.exit(result.status ?? 1)
