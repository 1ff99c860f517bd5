// The console's assets and its overview route on the consumer's port. The page and its two assets are public
// (they hold no data; the page asks for the admin token and sends it with every call); GET /admin/overview
// answers only the admin token. Assets are read once when the routes are registered and served from memory.
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { pageHeaders, requireBearer } from '../http/index.ts'
import { gatherOverview, type OverviewSources } from './overview.ts'

const asset = (name: string) => readFileSync(new URL(`./console/${name}`, import.meta.url), 'utf8')

/** The console's page, for buildBaseApp's `page` option (GET / in a browser). */
export function consolePage(): string {
  return asset('index.html')
}

const assets: Readonly<Record<string, string>> = {
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
}

export function registerConsoleRoutes(
  app: FastifyInstance,
  adminToken: string,
  sources: Omit<OverviewSources, 'app'>,
): void {
  for (const [name, type] of Object.entries(assets)) {
    const body = asset(name)
    app.get(`/console/${name}`, async (_request, reply) => reply.headers(pageHeaders).type(type).send(body))
  }
  app.register(async scoped => {
    scoped.addHook('onRequest', requireBearer(adminToken, 'ADMIN_TOKEN'))
    scoped.get('/admin/overview', async request =>
      gatherOverview({ ...sources, app }, request.headers.authorization ?? ''),
    )
  })
}
