// The outside programs some tests run: a Chromium for the console's browser test, promtool and prometheus for
// the Prometheus tests, amtool and alertmanager for the Alertmanager tests, redis-server and redis-cli for the
// tests that start Redis servers of their own. Each is found, never installed, here (only `npm test` installs, up
// front, and only as root on Debian: dev/debian.ts): a test whose program is missing is skipped with `missing` as
// its reason, which says in one line how to get the program.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { importsOf } from './unit-tests.ts'

/** What a search found: the program's path, or why there is none and how to get it (one line). */
export type Lookup =
  | { readonly path: string; readonly missing?: undefined }
  | { readonly path?: undefined; readonly missing: string }

export type ToolName = 'promtool' | 'prometheus' | 'amtool' | 'alertmanager' | 'redis-server' | 'redis-cli'

interface ToolSpec {
  /** Names to look for on the PATH, in order (Debian names Alertmanager's server prometheus-alertmanager). */
  readonly names: readonly string[]
  /** Debian's package that holds it, which `npm test` installs as root. */
  readonly debian: string
  /** How to get it without root. */
  readonly howTo: string
}

const prometheusHowTo =
  'brew install prometheus on macOS; on Linux the prometheus-*.linux-*.tar.gz of https://prometheus.io/download/ ' +
  'unpacked with its folder on the PATH'
const alertmanagerHowTo =
  'brew install alertmanager on macOS; on Linux the alertmanager-*.linux-*.tar.gz of https://prometheus.io/download/ ' +
  'unpacked with its folder on the PATH'

const redisHowTo =
  "brew install redis on macOS; on Linux your distribution's redis package, or redis built from its sources"

export const toolSpecs: Readonly<Record<ToolName, ToolSpec>> = {
  promtool: { names: ['promtool'], debian: 'prometheus', howTo: prometheusHowTo },
  prometheus: { names: ['prometheus'], debian: 'prometheus', howTo: prometheusHowTo },
  amtool: { names: ['amtool'], debian: 'prometheus-alertmanager', howTo: alertmanagerHowTo },
  alertmanager: {
    names: ['alertmanager', 'prometheus-alertmanager'],
    debian: 'prometheus-alertmanager',
    howTo: alertmanagerHowTo,
  },
  // For the tests that start Redis servers of their own (a private one, a cluster).
  'redis-server': { names: ['redis-server'], debian: 'redis-server', howTo: redisHowTo },
  // For the cluster test, which joins its servers into a Redis Cluster with redis-cli.
  'redis-cli': { names: ['redis-cli'], debian: 'redis-tools', howTo: redisHowTo },
}

/** Names a browser has on the PATH, in the order they are preferred. */
export const browserNames = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'] as const

export const browserHowTo =
  'set CHROME_PATH to a Chromium or Chrome, put chromium on the PATH, or run `npx playwright-core install chromium`'

/** The absolute path of `binary` on the PATH of `env` (this process's by default), or undefined. */
export function which(binary: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const r = spawnSync('/bin/sh', ['-c', 'command -v "$0"', binary], { encoding: 'utf8', timeout: 10_000, env })
  const path = r.stdout?.trim()
  return r.status === 0 && path?.startsWith('/') ? path : undefined
}

/** Where Playwright keeps its browsers: PLAYWRIGHT_BROWSERS_PATH, else its per-user cache of this platform. */
export function playwrightCache(env: NodeJS.ProcessEnv, home: string, platform: NodeJS.Platform): string {
  const set = env['PLAYWRIGHT_BROWSERS_PATH']
  if (set !== undefined && set !== '' && set !== '0') return set
  return platform === 'darwin'
    ? join(home, 'Library', 'Caches', 'ms-playwright')
    : join(home, '.cache', 'ms-playwright')
}

/**
 * The executables a Playwright cache may hold, newest revision first, for the folder names it has (`chromium-1255`,
 * `chromium_headless_shell-1255`, …): Chrome for Testing's layouts and the older Chromium ones, Linux and macOS.
 */
export function playwrightExecutables(cache: string, folders: readonly string[]): string[] {
  const revision = (folder: string) => Number(/-(\d+)$/.exec(folder)?.[1] ?? -1)
  const full = folders.filter(f => /^chromium-\d+$/.test(f)).sort((a, b) => revision(b) - revision(a))
  const shells = folders.filter(f => /^chromium_headless_shell-\d+$/.test(f)).sort((a, b) => revision(b) - revision(a))
  const cft = (arch: string) => join(`chrome-mac-${arch}`, 'Google Chrome for Testing.app', 'Contents', 'MacOS')
  return [
    ...full.flatMap(f =>
      [
        join('chrome-linux64', 'chrome'),
        join('chrome-linux-arm64', 'chrome'),
        join('chrome-linux', 'chrome'),
        join(cft('arm64'), 'Google Chrome for Testing'),
        join(cft('x64'), 'Google Chrome for Testing'),
        join('chrome-mac', 'Chromium.app', 'Contents', 'MacOS', 'Chromium'),
      ].map(p => join(cache, f, p)),
    ),
    ...shells.flatMap(f =>
      [
        join('chrome-headless-shell-linux64', 'chrome-headless-shell'),
        join('chrome-headless-shell-linux-arm64', 'chrome-headless-shell'),
        join('chrome-linux', 'headless_shell'),
        join('chrome-headless-shell-mac-arm64', 'chrome-headless-shell'),
        join('chrome-headless-shell-mac-x64', 'chrome-headless-shell'),
      ].map(p => join(cache, f, p)),
    ),
  ]
}

/** What the searches below look at; the real machine by default, a made-up one in unit tests. */
export interface Machine {
  readonly env: NodeJS.ProcessEnv
  which(name: string): string | undefined
  exists(path: string): boolean
  /** The folder names in `dir`, or none when it does not exist. */
  list(dir: string): string[]
  readonly home: string
  readonly platform: NodeJS.Platform
}

export const thisMachine: Machine = {
  env: process.env,
  which,
  exists: existsSync,
  list: dir => {
    try {
      return readdirSync(dir)
    } catch {
      return []
    }
  },
  home: homedir(),
  platform: process.platform,
}

/**
 * A Chromium for the browser tests: CHROME_PATH (which must exist: a wrong path is an error, not a skip), else
 * chromium/chromium-browser/google-chrome on the PATH, else the newest one in Playwright's cache.
 */
export function findBrowser(machine: Machine = thisMachine): Lookup {
  const set = machine.env['CHROME_PATH']
  if (set !== undefined && set !== '') {
    if (machine.exists(set)) return { path: set }
    throw new Error(`CHROME_PATH is ${set}, which does not exist: point it at a Chromium or Chrome, or unset it`)
  }
  for (const name of browserNames) {
    const path = machine.which(name)
    if (path !== undefined) return { path }
  }
  const cache = playwrightCache(machine.env, machine.home, machine.platform)
  const path = playwrightExecutables(cache, machine.list(cache)).find(p => machine.exists(p))
  if (path !== undefined) return { path }
  return { missing: `no Chromium: ${browserHowTo}` }
}

/** `tool` on the PATH, or why it is missing and how to get it. */
export function findTool(tool: ToolName, machine: Machine = thisMachine): Lookup {
  const spec = toolSpecs[tool]
  for (const name of spec.names) {
    const path = machine.which(name)
    if (path !== undefined) return { path }
  }
  return { missing: `no ${tool} on the PATH: ${spec.howTo} (Debian: apt-get install ${spec.debian})` }
}

/** The first reason among `lookups` to skip, or undefined when every program is there (node:test's `skip`). */
export function skipUnless(...lookups: Lookup[]): string | undefined {
  return lookups.find(l => l.missing !== undefined)?.missing
}

/**
 * The programs a test file asks for, from its calls of findBrowser() and findTool('name') on this machine (a call
 * given a made-up Machine asks for nothing): what `npm test` looks for, and installs as root, up front.
 */
export function programsNamedIn(text: string): Set<'chromium' | ToolName> {
  const found = new Set<'chromium' | ToolName>()
  if (/\bfindBrowser\(\s*\)/.test(text)) found.add('chromium')
  for (const m of text.matchAll(/\bfindTool\(\s*'([\w-]+)'\s*\)/g)) {
    const name = m[1] as string
    if (name in toolSpecs) found.add(name as ToolName)
  }
  return found
}

/**
 * The programs the test `files` (repo-relative) ask for, following their relative imports within test/ and dev/
 * (a helper such as test/helpers/prometheus.ts asks on behalf of its callers). This module, which defines the
 * finders, is not read.
 */
export function programsNeeded(root: string, files: readonly string[]): Set<'chromium' | ToolName> {
  const found = new Set<'chromium' | ToolName>()
  const seen = new Set<string>(['dev/tools.ts'])
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    const path = join(root, file)
    if (!existsSync(path)) return
    for (const program of programsNamedIn(readFileSync(path, 'utf8'))) found.add(program)
    for (const spec of importsOf(path)) {
      if (!spec.startsWith('.')) continue
      const target = relative(root, resolve(dirname(path), spec))
      if (target.startsWith('test/') || target.startsWith('dev/')) visit(target)
    }
  }
  for (const file of files) visit(file)
  return found
}
