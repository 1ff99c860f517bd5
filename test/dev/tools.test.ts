// Finding the programs some tests run (dev/tools.ts) on made-up machines: the order of the places looked at, the
// Playwright cache's layouts on Linux and macOS, and the one-line reasons the tests skip with.
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import {
  findBrowser,
  findTool,
  type Machine,
  playwrightCache,
  programsNamedIn,
  programsNeeded,
  skipUnless,
  thisMachine,
  which,
} from '../../dev/tools.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** A machine with `onPath` (name → path) on its PATH, `files` existing, and `env`. */
function machine(options: {
  onPath?: Record<string, string>
  files?: string[]
  env?: Record<string, string>
  platform?: NodeJS.Platform
}): Machine {
  const files = new Set(options.files ?? [])
  return {
    env: options.env ?? {},
    which: name => options.onPath?.[name],
    exists: path => files.has(path),
    list: dir => [
      ...new Set(
        [...files].filter(f => f.startsWith(`${dir}/`)).map(f => f.slice(dir.length + 1).split('/')[0] as string),
      ),
    ],
    home: '/home/me',
    platform: options.platform ?? 'linux',
  }
}

const linuxCache = '/home/me/.cache/ms-playwright'
const macCache = '/home/me/Library/Caches/ms-playwright'

describe('findBrowser', () => {
  it('takes CHROME_PATH first, then the PATH, then the newest browser of the Playwright cache', () => {
    const cached = `${linuxCache}/chromium-1255/chrome-linux64/chrome`
    const all = machine({
      env: { CHROME_PATH: '/opt/chrome/chrome' },
      onPath: { 'google-chrome': '/usr/bin/google-chrome', chromium: '/usr/bin/chromium' },
      files: ['/opt/chrome/chrome', cached],
    })
    assert.deepEqual(findBrowser(all), { path: '/opt/chrome/chrome' })
    assert.deepEqual(findBrowser({ ...all, env: {} }), { path: '/usr/bin/chromium' })
    assert.deepEqual(findBrowser({ ...all, env: {}, which: n => (n === 'google-chrome' ? '/g' : undefined) }), {
      path: '/g',
    })
    assert.deepEqual(findBrowser({ ...all, env: {}, which: () => undefined }), { path: cached })
  })

  it('finds the newest revision in the cache, a headless shell too, on Linux and macOS', () => {
    const older = `${linuxCache}/chromium-1100/chrome-linux/chrome`
    const newer = `${linuxCache}/chromium-1255/chrome-linux64/chrome`
    assert.deepEqual(findBrowser(machine({ files: [older, newer] })), { path: newer })
    assert.deepEqual(findBrowser(machine({ files: [older] })), { path: older })
    const shell = `${linuxCache}/chromium_headless_shell-1255/chrome-headless-shell-linux64/chrome-headless-shell`
    assert.deepEqual(findBrowser(machine({ files: [shell] })), { path: shell })
    const mac = `${macCache}/chromium-1255/chrome-mac-arm64/Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing`
    assert.deepEqual(findBrowser(machine({ files: [mac], platform: 'darwin' })), { path: mac })
    // The Linux cache is not where macOS keeps it.
    assert.ok(findBrowser(machine({ files: [newer], platform: 'darwin' })).missing)
    const moved = '/srv/pw/chromium-1255/chrome-linux64/chrome'
    assert.deepEqual(findBrowser(machine({ files: [moved], env: { PLAYWRIGHT_BROWSERS_PATH: '/srv/pw' } })), {
      path: moved,
    })
  })

  it('says in one line how to get one when there is none, and refuses a CHROME_PATH that is not there', () => {
    const none = findBrowser(machine({}))
    assert.equal(none.path, undefined)
    assert.match(none.missing ?? '', /^no Chromium: set CHROME_PATH.*npx playwright-core install chromium`$/)
    assert.ok(!none.missing?.includes('\n'))
    assert.throws(
      () => findBrowser(machine({ env: { CHROME_PATH: '/nope' } })),
      /CHROME_PATH is \/nope, which does not exist/,
    )
  })
})

describe('findTool', () => {
  it('finds each program on the PATH, Alertmanager under either name', () => {
    assert.deepEqual(findTool('promtool', machine({ onPath: { promtool: '/x/promtool' } })), { path: '/x/promtool' })
    assert.deepEqual(findTool('alertmanager', machine({ onPath: { 'prometheus-alertmanager': '/usr/bin/pa' } })), {
      path: '/usr/bin/pa',
    })
    assert.deepEqual(
      findTool('alertmanager', machine({ onPath: { alertmanager: '/a', 'prometheus-alertmanager': '/b' } })),
      {
        path: '/a',
      },
    )
  })

  it('says how to get a missing one without root, and which Debian package has it', () => {
    for (const [tool, brew, pkg] of [
      ['promtool', 'brew install prometheus', 'prometheus'],
      ['prometheus', 'brew install prometheus', 'prometheus'],
      ['amtool', 'brew install alertmanager', 'prometheus-alertmanager'],
      ['alertmanager', 'brew install alertmanager', 'prometheus-alertmanager'],
      ['redis-server', 'brew install redis', 'redis-server'],
      ['redis-cli', 'brew install redis', 'redis-tools'],
    ] as const) {
      const { missing } = findTool(tool, machine({}))
      assert.ok(missing?.startsWith(`no ${tool} on the PATH: `), missing)
      assert.ok(missing?.includes(brew) && missing.includes(`apt-get install ${pkg}`), missing)
      assert.ok(!missing?.includes('\n'))
    }
  })

  it('looks on the real PATH it is given: a redis-server there is found, a PATH without one gives the reason', t => {
    const bin = mkdtempSync(join(tmpdir(), 'ep-tools-'))
    t.after(() => rmSync(bin, { recursive: true, force: true }))
    const empty = mkdtempSync(join(tmpdir(), 'ep-tools-empty-'))
    t.after(() => rmSync(empty, { recursive: true, force: true }))
    writeFileSync(join(bin, 'redis-server'), '#!/bin/sh\n')
    chmodSync(join(bin, 'redis-server'), 0o755)
    const onPath = (PATH: string): Machine => ({ ...thisMachine, which: name => which(name, { PATH }) })
    assert.deepEqual(findTool('redis-server', onPath(bin)), { path: join(bin, 'redis-server') })
    const { missing } = findTool('redis-server', onPath(empty))
    assert.match(
      missing ?? '',
      /^no redis-server on the PATH: brew install redis on macOS; .*apt-get install redis-server\)$/,
    )
    assert.equal(skipUnless(findTool('redis-server', onPath(empty)), findTool('redis-cli', onPath(empty))), missing)
  })

  it('skipUnless gives the first reason, or undefined when everything is there', () => {
    assert.equal(skipUnless({ path: '/a' }, { path: '/b' }), undefined)
    assert.equal(skipUnless({ path: '/a' }, { missing: 'no b' }, { missing: 'no c' }), 'no b')
  })
})

describe('the programs the chosen tests need', () => {
  it('reads the finders a file calls', () => {
    // Spelt in pieces, so that this file does not itself ask for the programs.
    const [browser, tool] = ['find' + 'Browser(', 'find' + 'Tool(']
    const text = `const b = ${browser})\n${tool}'promtool'); ${tool} 'amtool' ); ${tool}'redis-server'); ${tool}'nonsense')`
    assert.deepEqual([...programsNamedIn(text)], ['chromium', 'promtool', 'amtool', 'redis-server'])
    // Calls on a made-up machine ask for nothing.
    assert.deepEqual([...programsNamedIn(`${browser}fake); ${tool}'promtool', fake)`)], [])
    assert.deepEqual([...programsNamedIn('nothing here')], [])
  })

  it('follows the imports of test/ and dev/ modules, so a helper asks for its callers', () => {
    assert.deepEqual([...programsNeeded(root, ['test/admin/series-prometheus.test.ts'])], ['prometheus'])
    assert.deepEqual([...programsNeeded(root, ['test/admin/console.test.ts'])], ['chromium'])
    assert.deepEqual([...programsNeeded(root, ['test/deploy/prometheus.test.ts'])].sort(), ['prometheus', 'promtool'])
    // The private Redis helper asks for redis-server on behalf of the tests that import it.
    assert.deepEqual([...programsNeeded(root, ['test/dlq/caps.test.ts'])], ['redis-server'])
    assert.deepEqual([...programsNeeded(root, ['test/dlq/cluster.test.ts'])].sort(), ['redis-cli', 'redis-server'])
    assert.deepEqual([...programsNeeded(root, ['test/consumer/redis-restart.test.ts'])], ['redis-server'])
    assert.deepEqual([...programsNeeded(root, ['test/config/config.test.ts', 'test/dev/tools.test.ts'])], [])
  })

  it('the Playwright cache is PLAYWRIGHT_BROWSERS_PATH, else the per-user cache of the platform', () => {
    assert.equal(playwrightCache({}, '/h', 'linux'), join('/h', '.cache', 'ms-playwright'))
    assert.equal(playwrightCache({}, '/h', 'darwin'), join('/h', 'Library', 'Caches', 'ms-playwright'))
    assert.equal(playwrightCache({ PLAYWRIGHT_BROWSERS_PATH: '/p' }, '/h', 'linux'), '/p')
  })
})
