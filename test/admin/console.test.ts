// The console in a real browser (a Chromium driven by playwright-core: dev/tools.ts finds one, or the test skips) against `pipeline all` on the real
// Kafka, Redis and a SQLite file: sign in, see the roles and the dead letters, find one, fix it, dry-run then
// redrive it, and see it applied and the DLQ count drop; then watch the charts drawn and moving while a stream is
// applied; then pause a partition and see it acknowledged, rebuild the projection (start, progress to caught-up,
// verify: match), see a swap refused while the partition is paused, resume, swap, roll back, verify a row changed
// by hand (differ, both versions shown) and abort. What the page shows is checked against an independent look at
// Redis, Kafka and the SQLite file. Screenshots of the main views go to .tmp/test-output/console/ (and the
// overview, the charts and the rebuild to docs/console.png, docs/console-charts.png and docs/console-rebuild.png
// when CONSOLE_SCREENSHOT_DOCS=1).
import assert from 'node:assert/strict'
import { copyFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { type Browser, chromium, type Page } from 'playwright-core'
import { findBrowser } from '../../dev/tools.ts'
import { userCreated } from '../helpers/events.ts'
import { endOffsets, eventually, produceRaw } from '../helpers/kafka.ts'
import { type RunningPipeline, startPipeline } from '../helpers/pipeline.ts'
import { kafkaTopic, sqliteFile, uniqueName } from '../helpers/resources.ts'
import { redisHostPort, testServices } from '../helpers/services.ts'

const outputDir = fileURLToPath(new URL('../../.tmp/test-output/console/', import.meta.url))
const docsShot = fileURLToPath(new URL('../../docs/console.png', import.meta.url))
const docsChartsShot = fileURLToPath(new URL('../../docs/console-charts.png', import.meta.url))
const docsRebuildShot = fileURLToPath(new URL('../../docs/console-rebuild.png', import.meta.url))
const token = `console-test-${uniqueName('t')}`

const chromiumFound = findBrowser()

describe('the console in a browser', { skip: chromiumFound.missing }, () => {
  let pipeline: RunningPipeline
  let browser: Browser
  let page: Page
  let databasePath: string
  let redis: Redis
  let dlqKey: string
  let topic: string
  const suffix = uniqueName('c')
  const eventId = `console-${suffix}`
  const userId = `user-${suffix}`
  const cleanups: (() => unknown)[] = []
  const t = { after: (fn: () => unknown) => cleanups.push(fn) }

  before(async () => {
    const chromiumPath = chromiumFound.path
    assert.ok(chromiumPath !== undefined)
    mkdirSync(outputDir, { recursive: true })
    topic = await kafkaTopic(t)
    databasePath = sqliteFile(t)
    dlqKey = `dlq:${uniqueName('console')}`
    const { host, port } = redisHostPort()
    redis = new Redis({ host, port, password: testServices.redisPassword || undefined, lazyConnect: true })
    t.after(async () => {
      await redis.del(dlqKey)
      const companions = await redis.keys(`{${dlqKey}}:*`)
      if (companions.length > 0) await redis.del(...companions)
      const pause = await redis.keys(`{pause:${topic}-group:${topic}}:*`)
      if (pause.length > 0) await redis.del(...pause)
      redis.disconnect()
    })
    pipeline = await startPipeline(t, 'all', {
      KAFKA_TOPIC: topic,
      KAFKA_GROUP_ID: `${topic}-group`,
      DATABASE_URL: `sqlite:${databasePath}`,
      DLQ_KEY: dlqKey,
      ADMIN_TOKEN: token,
      READ_WAIT_MS: '2000',
      // A sample a second, so that the charts move within the test.
      CONSOLE_CHART_INTERVAL: '1s',
      LOG_LEVEL: 'WARN',
    })
    // Playwright gives every launch a fresh, empty profile directory of its own (and removes it on close).
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    })
    t.after(() => browser.close())
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' })
    page = await context.newPage()
  })

  after(async () => {
    for (const fn of cleanups.reverse()) await fn()
  })

  /** A look at the pipeline's SQLite file of its own, read-only, beside the pipeline's connection. */
  const read = <T>(look: (db: DatabaseSync) => T): T => {
    const db = new DatabaseSync(databasePath, { readOnly: true })
    try {
      db.exec('PRAGMA busy_timeout = 5000')
      return look(db)
    } finally {
      db.close()
    }
  }

  it('refuses a wrong token and says so', async () => {
    await page.goto(pipeline.urls.consumer)
    await page.getByLabel('Admin token').fill('not-the-admin-token-at-all')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('alert').filter({ hasText: '401' }).waitFor()
    assert.equal(await page.getByRole('heading', { name: 'Sign in' }).isVisible(), true)
    await page.screenshot({ path: join(outputDir, 'sign-in.png') })
  })

  it('finds a dead letter, fixes it, dry-runs then redrives it, and sees it applied', async () => {
    // A UserCreated without its email, written straight to Kafka: the consumer dead-letters it (SCHEMA_VIOLATION).
    const broken = {
      eventId,
      type: 'UserCreated',
      timestamp: '2025-01-11T12:00:00Z',
      data: { userId, name: 'Console Example', createdAt: '2025-01-11T12:00:00Z' },
    }
    await produceRaw(topic, [{ key: userId, value: JSON.stringify(broken) }])
    await eventually('the record to be dead-lettered', async () => (await redis.llen(dlqKey)) === 1, 30_000)

    await page.getByLabel('Admin token').fill(token)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'Overview' }).waitFor()
    // Every role ready, and the DLQ's count as Redis holds it.
    for (const role of ['producer', 'consumer', 'api']) {
      await page.locator('#roles tbody tr', { hasText: role }).filter({ hasText: 'ready' }).waitFor()
    }
    await page.locator('#dlq-total', { hasText: /^1 entry;/ }).waitFor()
    await page.locator('#dlq-by-code', { hasText: 'SCHEMA_VIOLATION' }).waitFor()
    await page.locator('#partitions tbody tr').first().waitFor()
    await page.screenshot({ path: join(outputDir, 'overview.png'), fullPage: true })
    if (process.env['CONSOLE_SCREENSHOT_DOCS'] === '1') copyFileSync(join(outputDir, 'overview.png'), docsShot)

    // Find it with the filters, keyboard only for the search.
    await page.getByRole('link', { name: 'Dead letters' }).click()
    await page.getByLabel('Code').fill('SCHEMA_VIOLATION')
    await page.getByLabel('Code').press('Enter')
    const row = page.locator('#dlq-table tbody tr', { hasText: eventId })
    await row.waitFor()
    assert.match((await row.textContent()) ?? '', /UserCreated/)
    await row.getByRole('button', { name: `View ${eventId}` }).click()
    await page.locator('#entry-payload', { hasText: 'Console Example' }).waitFor()
    await page.screenshot({ path: join(outputDir, 'dead-letter.png'), fullPage: true })

    // Fix: add the missing email. The dry run shows one entry and changes nothing.
    const fixed = { ...broken, data: { ...broken.data, email: 'console@example.com' } }
    await page.getByLabel(/Fixed payload/).fill(JSON.stringify(fixed, null, 2))
    await page.getByRole('button', { name: 'Fix and redrive' }).click()
    await page.locator('#preview-summary', { hasText: '1 entry would be sent back to Kafka' }).waitFor()
    await page.screenshot({ path: join(outputDir, 'redrive-preview.png'), fullPage: true })
    assert.equal(await redis.llen(dlqKey), 1, 'the dry run left the DLQ as it was')
    const users = async () =>
      read(db =>
        db
          .prepare('SELECT email FROM users WHERE user_id = ?')
          .all(userId)
          .map(row => ({ ...row })),
      )
    assert.deepEqual(await users(), [], 'the dry run sent nothing')

    await page.getByRole('button', { name: 'Redrive 1 entry' }).click()
    await page.locator('#job-status', { hasText: /^done: 1 of 1 sent/ }).waitFor({ timeout: 30_000 })
    await eventually('the fixed event to be applied', async () => (await users()).length === 1, 30_000)
    assert.deepEqual(await users(), [{ email: 'console@example.com' }])
    assert.equal(await redis.llen(dlqKey), 0, 'the entry left the DLQ')

    // The page agrees: the event is applied, and the DLQ count dropped to 0.
    await page.getByRole('link', { name: 'Event lookup' }).click()
    await page.getByLabel('Event id to look up').fill(eventId)
    await page.getByRole('button', { name: 'Look up' }).click()
    await page.locator('#event-result strong', { hasText: 'applied' }).waitFor({ timeout: 15_000 })
    await page.screenshot({ path: join(outputDir, 'event.png'), fullPage: true })
    await page.getByRole('link', { name: 'Overview' }).click()
    await page.locator('#dlq-total', { hasText: /^0 entries/ }).waitFor()
    await page.getByRole('link', { name: 'Audit' }).click()
    await page.locator('#audit-table tbody tr', { hasText: 'redrive' }).first().waitFor()
    await page.screenshot({ path: join(outputDir, 'audit.png'), fullPage: true })
  })

  it('draws the charts of a consumer applying a stream, and they move', async () => {
    // A stream: 40 users every 400 ms for about 8 s, while the page watches.
    let producing = true
    const stream = (async () => {
      for (let round = 0; producing && round < 20; round++) {
        const users = Array.from({ length: 40 }, (_, k) => userCreated(`chart-${suffix}-${round}-${k}`))
        await produceRaw(
          topic,
          users.map(u => ({ key: u.data.userId, value: JSON.stringify(u) })),
        )
        await new Promise(resolve => setTimeout(resolve, 400))
      }
    })()
    try {
      await page.getByRole('link', { name: 'Charts' }).click()
      await page.getByRole('heading', { name: 'Charts' }).waitFor()
      const figure = (key: string) => page.locator(`figure[data-chart="${key}"]`)
      for (const key of ['applied', 'deadLetters', 'pending', 'lagRecords', 'lagSeconds']) {
        await figure(key).locator('canvas').waitFor()
      }
      // Data in them: several samples, a rate above 0 while the stream is applied, a lag line per partition.
      const attribute = async (key: string, name: string) => (await figure(key).getAttribute(name)) ?? ''
      await eventually(
        'three samples in the charts',
        async () => Number(await attribute('applied', 'data-points')) >= 3,
      )
      await figure('applied')
        .locator('p', { hasText: /^Now [1-9][\d,.]*\/s\.$/ })
        .waitFor({ timeout: 20_000 })
      await eventually('a lag line per partition', async () => (await attribute('lagRecords', 'data-lines')) === '3')
      assert.match((await figure('lagSeconds').locator('p').textContent()) ?? '', /^Now partition 0: /)
      assert.match((await page.locator('#charts-span').textContent()) ?? '', /one every 1 s\.$/)

      // They move: two looks some seconds apart differ, in samples and in pixels.
      const look = async () => ({
        points: Number(await attribute('applied', 'data-points')),
        // The page's own canvas, as a PNG: what the chart shows, pixel for pixel.
        pixels: await figure('applied')
          .locator('canvas')
          .evaluate(canvas => (canvas as unknown as { toDataURL(): string }).toDataURL()),
      })
      const first = await look()
      await new Promise(resolve => setTimeout(resolve, 3000))
      const second = await look()
      assert.ok(second.points > first.points, `${first.points} then ${second.points} samples`)
      assert.notEqual(second.pixels, first.pixels, 'the applied chart was drawn again with new data')
      await page.screenshot({ path: join(outputDir, 'charts.png'), fullPage: true })
      if (process.env['CONSOLE_SCREENSHOT_DOCS'] === '1') copyFileSync(join(outputDir, 'charts.png'), docsChartsShot)
    } finally {
      producing = false
      await stream
    }
  })

  it('pauses a partition and resumes it, rebuilds the projection, verifies, swaps and rolls back', async () => {
    // Two thousand users more, applied by the live consumer before the rebuild starts: verify then compares a
    // quiet log.
    const rebuilt = 2000
    for (let batch = 0; batch < rebuilt / 500; batch++) {
      const users = Array.from({ length: 500 }, (_, k) => userCreated(`rebuild-${suffix}-${batch}-${k}`))
      await produceRaw(
        topic,
        users.map(u => ({ key: u.data.userId, value: JSON.stringify(u) })),
      )
    }
    const count = (like = '%') =>
      read(db =>
        Number((db.prepare('SELECT count(*) AS n FROM users WHERE user_id LIKE ?').get(like) as { n: number }).n),
      )
    await eventually('the live consumer to apply them', () => count(`rebuild-${suffix}-%`) === rebuilt, 30_000)
    const total = count()
    const section = page.locator('#rebuild')
    const button = (name: string) => page.getByRole('button', { name, exact: true })
    const state = (name: string, timeout = 30_000) =>
      page.locator(`#rebuild[data-state="${name}"]`).waitFor({ timeout })
    const audit = async () =>
      (await redis.lrange(`{${dlqKey}}:audit`, 0, 20)).map(e => (JSON.parse(e) as { action: string }).action)

    // No rebuild yet: only Start is enabled.
    await page.getByRole('link', { name: 'Rebuild' }).click()
    await page.getByRole('heading', { name: 'Rebuild the projection' }).waitFor()
    await state('none')
    assert.match((await page.locator('#rebuild-state').textContent()) ?? '', /^No rebuild of this store/)
    assert.equal(await button('Start').isEnabled(), true)
    for (const name of ['Resume', 'Verify', 'Swap…', 'Rollback…', 'Abort…', 'Drop old…']) {
      assert.equal(await button(name).isDisabled(), true, name)
    }

    // Start from the earliest record; the table follows the fill to the log end.
    await button('Start').click()
    await page
      .locator('#rebuild-state', { hasText: /^Rebuild \d+ \(rebuild_\d+\) is (creating|filling|caught-up)/ })
      .waitFor()
    await state('caught-up')
    await page.locator('#rebuild-progress', { hasText: /^Caught up with the log end/ }).waitFor()
    assert.equal(await page.locator('#rebuild-bar').evaluate(bar => (bar as unknown as { value: number }).value), 1)
    // Every partition's offset reached is Kafka's own log end, looked at independently.
    const ends = await endOffsets(topic)
    const rows = await page.locator('#rebuild-partitions tbody tr').allTextContents()
    assert.equal(rows.length, 3)
    const cells = await page
      .locator('#rebuild-partitions tbody tr')
      .evaluateAll(trs =>
        trs.map(tr =>
          [...(tr as unknown as { cells: Iterable<{ textContent: string | null }> }).cells].map(
            c => c.textContent ?? '',
          ),
        ),
      )
    for (const [partition, reached, end, lag] of cells) {
      const kafkaEnd = ends.get(Number(partition))
      assert.ok(kafkaEnd !== undefined)
      assert.equal(reached?.replaceAll(',', ''), String(kafkaEnd), `partition ${partition} reached`)
      assert.equal(end?.replaceAll(',', ''), String(kafkaEnd), `partition ${partition} end`)
      assert.equal(lag, '0')
    }
    // The record the live consumer dead-lettered at the start is in the log still: the fill meets it too.
    assert.equal(
      await page.locator('#rebuild-bad-count').textContent(),
      '1 bad record, dead-lettered by the live consumer.',
    )
    assert.match(
      (await page.locator('#rebuild-bad tbody tr').allTextContents()).join('\n'),
      new RegExp(`^SCHEMA_VIOLATION\\d+@\\d+${eventId}`),
    )
    assert.equal(await button('Start').isDisabled(), true, 'one rebuild at a time')
    assert.equal(await button('Rollback…').isDisabled(), true, 'nothing swapped to roll back')

    // Verify: every table matches, the users table holding the rows the SQLite file holds.
    await button('Verify').click()
    await page.locator('#rebuild-verdict', { hasText: /^Match: every table holds the same rows/ }).waitFor()
    const users = page.locator('#rebuild-tables tbody tr', { hasText: /^users/ })
    const [, liveRows, shadowRows, , , verdict] = await users.locator('td').allTextContents()
    assert.equal(liveRows?.replaceAll(',', ''), String(total))
    assert.equal(shadowRows?.replaceAll(',', ''), String(total))
    assert.equal(verdict, 'match')
    await section.screenshot({ path: join(outputDir, 'rebuild-verified.png') })
    await page.screenshot({ path: join(outputDir, 'rebuild.png'), fullPage: true })
    if (process.env['CONSOLE_SCREENSHOT_DOCS'] === '1') copyFileSync(join(outputDir, 'rebuild.png'), docsRebuildShot)

    // Pause partition 1 from the Pause section, and see every member acknowledge it.
    await page.getByRole('link', { name: 'Pause' }).click()
    await page.locator('#pause-summary', { hasText: 'Nothing is paused.' }).waitFor()
    await page.getByLabel(/^Partitions/).fill('1')
    await page.getByLabel('Reason').fill('console journey')
    await button('Pause…').click()
    await page.locator('#pause-question', { hasText: /^Pause partition 1 of consumer group / }).waitFor()
    await button('Pause').click()
    await page.locator('#pause-summary', { hasText: 'Partition 1 paused.' }).waitFor()
    await page.locator('#pause-idle', { hasText: 'Every live member has stopped what is paused.' }).waitFor()
    await page.locator('#pause-table tbody tr', { hasText: 'console journey' }).waitFor()
    const board = await redis.hget(`{pause:${topic}-group:${topic}}:record`, 'record')
    assert.deepEqual(Object.keys((JSON.parse(board ?? '{}') as { partitions?: object }).partitions ?? {}), ['1'])
    await page.screenshot({ path: join(outputDir, 'pause.png'), fullPage: true })

    // A swap pauses the whole group itself: while an operator's pause holds, the server refuses it, and says why.
    await page.getByRole('link', { name: 'Rebuild' }).click()
    await button('Swap…').click()
    await page
      .locator('#rebuild-question', { hasText: /^Swap rebuild \d+ in\? The live consumer group pauses/ })
      .waitFor()
    await button('Swap').click()
    await page
      .getByRole('alert')
      .filter({ hasText: /rebuild\/swap: partitions of .* are paused already/ })
      .waitFor()
    await state('caught-up')

    // Resume it; nothing is paused any more.
    await page.getByRole('link', { name: 'Pause' }).click()
    await button('Resume…').click()
    await page.locator('#pause-question', { hasText: /^Resume partition 1 of consumer group / }).waitFor()
    await button('Resume').click()
    await page.locator('#pause-summary', { hasText: 'Nothing is paused.' }).waitFor()
    await eventually('the pause to be lifted in Redis', async () => {
      const record = JSON.parse((await redis.hget(`{pause:${topic}-group:${topic}}:record`, 'record')) ?? '{}')
      return Object.keys((record as { partitions?: object }).partitions ?? {}).length === 0
    })

    // Swap, with its confirmation; swapped once the gap is closed (Rollback enabled: the swap let go of it).
    await page.getByRole('link', { name: 'Rebuild' }).click()
    await button('Swap…').click()
    await button('Swap').click()
    await state('swapped')
    assert.equal(await page.locator('#alert').isHidden(), true, 'the refusal shown before is gone')
    assert.equal(await page.locator('#rebuild-report').isHidden(), true, 'the verify compared the tables before')
    await page.locator('#rebuild-rollback:enabled').waitFor({ timeout: 30_000 })
    assert.equal(await button('Drop old…').isEnabled(), true)
    assert.equal(await button('Swap…').isDisabled(), true)
    assert.equal(count(), total, 'the rebuilt users table is the live one, every row in it')
    assert.ok((await audit()).includes('rebuild-swap'))
    await page.screenshot({ path: join(outputDir, 'rebuild-swapped.png'), fullPage: true })

    // Roll back, with its confirmation; then abort, which drops the shadow.
    await button('Rollback…').click()
    await page
      .locator('#rebuild-question', { hasText: /^Roll back rebuild \d+\? The tables the swap replaced/ })
      .waitFor()
    await button('Roll back').click()
    await state('rolled-back')
    await page.locator('#rebuild-abort:enabled').waitFor()
    assert.equal(count(), total)
    assert.ok((await audit()).includes('rebuild-rollback'))

    // A row changed by hand in the live tables: verify says they differ, and shows that key's two versions.
    const changed = `rebuild-${suffix}-0-7`
    const db = new DatabaseSync(databasePath)
    try {
      db.exec('PRAGMA busy_timeout = 10000')
      db.prepare("UPDATE users SET email = 'changed-by-hand@example.com' WHERE user_id = ?").run(changed)
    } finally {
      db.close()
    }
    await button('Verify').click()
    await page.locator('#rebuild-verdict', { hasText: /^Differ: users\. Verified at / }).waitFor()
    const diff = page.locator('#rebuild-diffs table', { hasText: 'users: differing keys' })
    const [key, columns, live, shadow] = await diff.locator('tbody tr').first().locator('td').allTextContents()
    assert.equal(key, changed)
    assert.equal(columns, 'email')
    assert.match(live ?? '', /"email": "changed-by-hand@example\.com"/)
    assert.match(shadow ?? '', new RegExp(`"email": "${changed}@example\\.com"`))
    assert.doesNotMatch(shadow ?? '', /changed-by-hand/)
    await page.screenshot({ path: join(outputDir, 'rebuild-differ.png'), fullPage: true })

    await button('Abort…').click()
    await button('Abort').click()
    await state('aborted')
    assert.equal(await button('Start').isEnabled(), true, 'a new rebuild may begin')
  })
})
