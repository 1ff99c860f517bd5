// The console in a real browser (a Chromium driven by playwright-core: dev/tools.ts finds one, or the test skips) against `pipeline all` on the real
// Kafka, Redis and PostgreSQL: sign in, see the roles and the dead letters, find one, fix it, dry-run then
// redrive it, and see it applied and the DLQ count drop; then watch the charts drawn and moving while a stream is
// applied. What the page shows is checked against an independent look at Redis and PostgreSQL. Screenshots of the
// main views go to .tmp/test-output/console/ (and the overview and the charts to docs/console.png and
// docs/console-charts.png when CONSOLE_SCREENSHOT_DOCS=1).
import assert from 'node:assert/strict'
import { copyFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import pg from 'pg'
import { type Browser, chromium, type Page } from 'playwright-core'
import { findBrowser } from '../../dev/tools.ts'
import { userCreated } from '../helpers/events.ts'
import { eventually, produceRaw } from '../helpers/kafka.ts'
import { type RunningPipeline, startPipeline } from '../helpers/pipeline.ts'
import { kafkaTopic, postgresDatabase, uniqueName } from '../helpers/resources.ts'
import { redisHostPort, testServices } from '../helpers/services.ts'

const outputDir = fileURLToPath(new URL('../../.tmp/test-output/console/', import.meta.url))
const docsShot = fileURLToPath(new URL('../../docs/console.png', import.meta.url))
const docsChartsShot = fileURLToPath(new URL('../../docs/console-charts.png', import.meta.url))
const token = `console-test-${uniqueName('t')}`

const chromiumFound = findBrowser()

describe('the console in a browser', { skip: chromiumFound.missing }, () => {
  let pipeline: RunningPipeline
  let browser: Browser
  let page: Page
  let databaseUrl: string
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
    databaseUrl = await postgresDatabase(t)
    dlqKey = `dlq:${uniqueName('console')}`
    const { host, port } = redisHostPort()
    redis = new Redis({ host, port, password: testServices.redisPassword || undefined, lazyConnect: true })
    t.after(async () => {
      await redis.del(dlqKey)
      const companions = await redis.keys(`{${dlqKey}}:*`)
      if (companions.length > 0) await redis.del(...companions)
      redis.disconnect()
    })
    pipeline = await startPipeline(t, 'all', {
      KAFKA_TOPIC: topic,
      KAFKA_GROUP_ID: `${topic}-group`,
      DATABASE_URL: databaseUrl,
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
    const db = new pg.Client({ connectionString: databaseUrl })
    await db.connect()
    t.after(() => db.end())
    const users = async () => (await db.query('SELECT email FROM users WHERE user_id = $1', [userId])).rows
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
})
