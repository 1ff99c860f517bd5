// The console's assets and its overview route on the consumer's port. The page and its two assets are public
// (they hold no data; the page asks for the admin token and sends it with every call); GET /admin/overview
// answers only the admin token.
//
// Where the assets come from: the production bundle (scripts/build.ts) carries them, script and stylesheet already
// bundled, as `__pipelineConsole`; run from the sources, the page is read when the routes are registered and the
// script and the stylesheet are bundled from src/admin/console/ on their first request (console-bundle.ts), then
// kept.
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import Type from 'typebox'
import { EventStatusBody, type EventStatusSources, eventStatus } from '../event-status/index.ts'
import { bearerSecurity, errorResponses, pageHeaders, requireBearer } from '../http/index.ts'
import type { ConsoleAssets } from './console-bundle.ts'
import { gatherOverview, OverviewSchema, type OverviewSources } from './overview.ts'
import { adminTokenRequired } from './routes.ts'

/** Set by the production build (esbuild's `define`); not declared anywhere when the sources run. */
declare const __pipelineConsole: ConsoleAssets | undefined

const prebuilt: ConsoleAssets | undefined = typeof __pipelineConsole === 'undefined' ? undefined : __pipelineConsole

const source = (name: string) => readFileSync(new URL(`./console/${name}`, import.meta.url), 'utf8')

/** The console's page, for buildBaseApp's `page` option (GET / in a browser). */
export function consolePage(): string {
  return prebuilt?.html ?? source('index.html')
}

type Bundle = typeof import('./console-bundle.ts')

/** An asset bundled from the sources once per process, on its first request. */
function developmentAsset(make: (bundle: Bundle) => Promise<string>): () => Promise<string> {
  let kept: Promise<string> | undefined
  return () => {
    kept ??= import('./console-bundle.ts').then(make)
    // A failed bundle is not kept: the next request tries again (after the source was fixed).
    kept.catch(() => {
      kept = undefined
    })
    return kept
  }
}

const developmentScript = developmentAsset(bundle => bundle.bundleConsoleScript({ minify: false }))
const developmentStyles = developmentAsset(bundle => bundle.bundleConsoleStyles({ minify: false }))

const assets = {
  'console.js': {
    type: 'text/javascript; charset=utf-8',
    body: () => (prebuilt === undefined ? developmentScript() : Promise.resolve(prebuilt.js)),
  },
  'console.css': {
    type: 'text/css; charset=utf-8',
    body: () => (prebuilt === undefined ? developmentStyles() : Promise.resolve(prebuilt.css)),
  },
} as const

export interface ConsoleSources extends Omit<OverviewSources, 'app'> {
  /** Where the event lookup reads (the same store and DLQ lookup as GET /events/{eventId} of the read API). */
  readonly events: EventStatusSources
}

export function registerConsoleRoutes(app: FastifyInstance, adminToken: string, sources: ConsoleSources): void {
  app.register(async scoped => {
    for (const [name, { type, body }] of Object.entries(assets)) {
      scoped.get(
        `/console/${name}`,
        {
          schema: {
            summary: `The console's ${name.endsWith('.js') ? 'script' : 'stylesheet'} (public: it holds no data)`,
            tags: ['console'],
            response: {
              200: { description: name, content: { [type.split(';')[0] as string]: { schema: Type.String() } } },
              ...errorResponses([]),
            },
          },
        },
        async (_request, reply) =>
          reply
            .headers(pageHeaders)
            .type(type)
            .send(await body()),
      )
    }
  })
  app.register(async scoped => {
    scoped.addHook('onRequest', requireBearer(adminToken, 'ADMIN_TOKEN'))
    scoped.get(
      '/admin/overview',
      {
        schema: {
          summary: "The console's first screen: roles, partitions (end, committed, lag) and pending events",
          tags: ['admin'],
          ...bearerSecurity(adminToken),
          response: { 200: OverviewSchema, ...errorResponses([401]) },
        },
      },
      async request => gatherOverview({ ...sources, app }, request.headers.authorization ?? ''),
    )
    // The read API's event status, here too, so the console needs only this port and the admin token.
    scoped.get<{ Params: { eventId: string } }>(
      '/admin/events/:eventId',
      {
        schema: {
          summary: 'What became of an event (as GET /events/{eventId} of the read API answers)',
          tags: ['admin'],
          ...bearerSecurity(adminToken),
          params: Type.Object({ eventId: Type.String({ minLength: 1, maxLength: 100 }) }),
          response: {
            200: { ...EventStatusBody, description: 'The status of the event (unknown included)' },
            ...errorResponses({
              400: 'The eventId is empty or longer than 100 characters',
              401: adminTokenRequired,
              503: 'The database or Redis did not answer: retry later',
            }),
          },
        },
      },
      async request => eventStatus(request.params.eventId, sources.events),
    )
  })
}
