// `npm test`: type check, lint, make sure Kafka, PostgreSQL and Redis answer (dev/ensure.ts: what the environment
// names, what answers on loopback, else started; one line per service that cannot be had), find the programs the
// chosen tests run (a Chromium, promtool, prometheus, amtool, alertmanager: dev/tools.ts), then run the tests with
// node:test. Root on Debian installs a missing program's package first; anywhere else its tests skip, with the
// reason printed here once and by node:test for each skipped test.
//   node scripts/test.ts [--no-checks] [--no-services] [--unit] [test files, folders or globs…]
// --unit runs only the tests that need no service (dev/unit-tests.ts decides from their imports), and starts none.
import { spawnSync } from 'node:child_process'
import { existsSync, globSync, statSync } from 'node:fs'
import { relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureDebianPackage, mayInstallDebianPackages } from '../dev/debian.ts'
import { ensureServices } from '../dev/ensure.ts'
import { findBrowser, findTool, type Lookup, programsNeeded, type ToolName, toolSpecs } from '../dev/tools.ts'
import { unitTestFiles } from '../dev/unit-tests.ts'

const args = process.argv.slice(2)
const flags = new Set(args.filter(a => a.startsWith('--')))
const unit = args.includes('--unit')
const root = fileURLToPath(new URL('..', import.meta.url))
const files = unit ? unitTestFiles(root) : args.filter(a => !a.startsWith('--'))
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
    for (const line of (error as Error).message.split('\n')) say(line)
    process.exit(1)
  }
}

// A folder stands for every test file under it.
const patterns = (files.length > 0 ? files : ['test']).map(f =>
  existsSync(f) && statSync(f).isDirectory() ? `${f.replace(/\/$/, '')}/**/*.test.ts` : f,
)

/** The program's lookup after installing its Debian package when it is missing and this process may. */
function provide(program: 'chromium' | ToolName): Lookup {
  const lookup = program === 'chromium' ? findBrowser() : findTool(program)
  if (lookup.missing === undefined || !mayInstallDebianPackages()) return lookup
  // Debian's names: the package, and the binary it puts on the PATH (the last of the names looked for).
  const [pkg, binary] =
    program === 'chromium'
      ? ['chromium', 'chromium']
      : [toolSpecs[program].debian, toolSpecs[program].names.at(-1) as string]
  try {
    ensureDebianPackage(pkg, binary, say)
  } catch (error) {
    say((error as Error).message.split('\n')[0] as string)
  }
  return program === 'chromium' ? findBrowser() : findTool(program)
}

// Programs are looked for (and, as root on Debian, installed) once, here, before tests run side by side.
const chosen = globSync(patterns).map(f => relative(root, resolve(f)))
for (const program of [...programsNeeded(root, chosen)].sort()) {
  try {
    const lookup = provide(program)
    if (lookup.missing !== undefined) say(`skipping the tests that need ${program}: ${lookup.missing}`)
  } catch (error) {
    say((error as Error).message)
    process.exit(1)
  }
}

const testArgs = ['--test', '--test-concurrency=2', '--test-timeout=300000', ...patterns]
say(`node ${testArgs.join(' ')}`)
const result = spawnSync(process.execPath, testArgs, { stdio: 'inherit' })
say(`finished in ${((Date.now() - started) / 1000).toFixed(0)} s`)
process.exit(result.status ?? 1)
