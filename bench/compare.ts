// `npm run bench -- --compare REF [--pairs N] [bench options]`: the working tree against a git ref, measured in
// the same session. The ref is checked out in a throwaway worktree under .tmp/ (sharing this tree's node_modules
// when both lock files are the same, else with its own `npm ci`); then the two sides run the same bench command
// alternately, ref first in even pairs and tree first in odd ones, and each figure is reported as the median of
// each side, their ratio and the spread of the per-pair ratios. A headline figure that the tree makes worse by
// more than 5 % is called out, and the command exits with 3 so a script can notice.
//
// The bench options default to the quick scenarios a hot-path change touches (--quick --runs 1 --only
// drain,copy,http,read); any given are passed to both sides as they are.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import {
  type Comparison,
  compareRuns,
  compareTable,
  type Figure,
  figuresOf,
  type Measurements,
  regressions,
  sideOrder,
} from './compare-figures.ts'
import { writeJson } from './report.ts'

const root = fileURLToPath(new URL('../', import.meta.url))
const threshold = 0.05

interface CompareOptions {
  readonly ref: string
  readonly pairs: number
  readonly benchArgs: readonly string[]
}

export function parseCompareOptions(argv: readonly string[]): CompareOptions {
  const { values, tokens } = parseArgs({
    args: [...argv],
    options: { compare: { type: 'string' }, pairs: { type: 'string' } },
    strict: false,
    tokens: true,
  })
  const ref = values.compare
  if (typeof ref !== 'string' || ref === '') throw new Error('--compare needs a git ref (a commit, branch or tag)')
  const pairs = Number(values.pairs ?? 3)
  if (!Number.isInteger(pairs) || pairs < 1 || pairs > 20) throw new Error('--pairs must be a whole number 1–20')
  // Everything but --compare and --pairs (and their values) goes to both sides' bench.
  const own = new Set<number>()
  for (const t of tokens ?? []) {
    if (t.kind === 'option' && (t.name === 'compare' || t.name === 'pairs')) {
      own.add(t.index)
      if (t.inlineValue === false) own.add(t.index + 1)
    }
  }
  const rest = argv.filter((_, i) => !own.has(i))
  return {
    ref,
    pairs,
    benchArgs: rest.length > 0 ? rest : ['--quick', '--runs', '1', '--only', 'drain,copy,http,read'],
  }
}

function git(args: readonly string[], cwd = root): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr.trim()}`)
  return r.stdout.trim()
}

/** A detached worktree of `sha` under .tmp/, ready to run its own bench. */
function checkout(sha: string): string {
  const dir = join(root, '.tmp', 'bench-compare', sha.slice(0, 12))
  if (existsSync(dir)) git(['worktree', 'remove', '--force', dir])
  mkdirSync(join(root, '.tmp', 'bench-compare'), { recursive: true })
  git(['worktree', 'add', '--detach', dir, sha])
  const sameLock =
    existsSync(join(root, 'package-lock.json')) &&
    readFileSync(join(root, 'package-lock.json'), 'utf8') === readFileSync(join(dir, 'package-lock.json'), 'utf8')
  if (sameLock && existsSync(join(root, 'node_modules'))) {
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir')
  } else {
    process.stderr.write(`compare: ${sha.slice(0, 12)} has other dependencies; npm ci there\n`)
    const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit' })
    if (r.status !== 0) throw new Error(`npm ci in ${dir} failed`)
  }
  return dir
}

/** Runs the bench in `dir` and returns the figures it wrote to its bench/results/latest.json. */
function benchIn(dir: string, args: readonly string[], label: string): Figure[] {
  const results = join(dir, 'bench', 'results', 'latest.json')
  rmSync(results, { force: true })
  process.stderr.write(`compare: ${label}: npm run bench -- ${args.join(' ')}\n`)
  const r = spawnSync('npm', ['run', '-s', 'bench', '--', ...args], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: process.env,
  })
  if (r.status !== 0 || !existsSync(results)) throw new Error(`the bench of ${label} failed (exit ${r.status})`)
  const body = JSON.parse(readFileSync(results, 'utf8')) as { measurements: Measurements; problems?: string[] }
  for (const p of body.problems ?? []) process.stderr.write(`compare: ${label}: problem: ${p}\n`)
  return figuresOf(body.measurements)
}

export async function runCompare(argv: readonly string[]): Promise<number> {
  const options = parseCompareOptions(argv)
  const sha = git(['rev-parse', '--verify', `${options.ref}^{commit}`])
  const head = git(['rev-parse', 'HEAD'])
  const dirty = git(['status', '--porcelain', '--untracked-files=no']) !== ''
  const treeName = `tree (${head.slice(0, 12)}${dirty ? ' + changes' : ''})`
  const dir = checkout(sha)
  try {
    const pairs: (readonly [Figure[], Figure[]])[] = []
    for (let i = 0; i < options.pairs; i++) {
      const runs: Partial<Record<'ref' | 'tree', Figure[]>> = {}
      for (const side of sideOrder(i)) {
        const label = `pair ${i + 1}/${options.pairs}, ${side === 'ref' ? `ref ${sha.slice(0, 12)}` : treeName}`
        runs[side] = benchIn(side === 'ref' ? dir : root, options.benchArgs, label)
      }
      pairs.push([runs.ref as Figure[], runs.tree as Figure[]])
    }
    const comparisons = compareRuns(pairs)
    const worse = regressions(comparisons, threshold)
    report(comparisons, worse, { ...options, sha, treeName })
    return worse.length > 0 ? 3 : 0
  } finally {
    git(['worktree', 'remove', '--force', dir])
  }
}

function report(
  comparisons: readonly Comparison[],
  worse: readonly Comparison[],
  run: CompareOptions & { sha: string; treeName: string },
): void {
  const path = join(root, 'bench', 'results', `compare-${run.sha.slice(0, 12)}.json`)
  writeJson(path, {
    date: new Date().toISOString(),
    ref: run.ref,
    sha: run.sha,
    tree: run.treeName,
    pairs: run.pairs,
    benchArgs: run.benchArgs,
    threshold,
    comparisons,
  })
  process.stdout.write(
    `\n${run.treeName} against ${run.ref} (${run.sha.slice(0, 12)}): medians of ${run.pairs} alternated pair(s) ` +
      `of "npm run bench -- ${run.benchArgs.join(' ')}"\n\n${compareTable(comparisons, threshold)}\n\n`,
  )
  process.stdout.write(
    worse.length === 0
      ? `no headline figure is more than ${threshold * 100} % worse\n`
      : `${worse.length} headline figure(s) more than ${threshold * 100} % worse: ${worse.map(c => c.id).join(', ')}\n`,
  )
  process.stdout.write(`written to ${path}\n`)
}
