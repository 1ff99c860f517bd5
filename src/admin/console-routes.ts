// The console's assets and its overview route on the consumer's port. The page and its two assets are public
// (they hold no data; the page asks for the admin token and sends it with every call); GET /admin/overview
// answers only the admin token. Assets are read once when the routes are registered and served from memory.
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import Type from 'typebox'
import { bearerSecurity, errorResponses, pageHeaders, requireBearer } from '../http/index.ts'
import { type EventStatusSources, eventStatus } from './event-status.ts'
import { EventStatusBody } from './event-status-schema.ts'
import { gatherOverview, type OverviewSources } from './overview.ts'
import { adminTokenRequired } from './routes.ts'

const asset = (name: string) => readFileSync(new URL(`./console/${name}`, import.meta.url), 'utf8')

/** The console's page, for buildBaseApp's `page` option (GET / in a browser). */
export function consolePage(): string {
  return asset('index.html')
}

const assets: Readonly<Record<string, string>> = {
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
}

const Probe = Type.Object({
  url: Type.String(),
  health: Type.String({ description: "'ok', 'unreachable' or the status code /health answered" }),
  ready: Type.String({ description: "/ready's status ('ready', 'not ready') or 'unreachable'" }),
  checks: Type.Optional(
    Type.Record(Type.String(), Type.Object({ ok: Type.Boolean(), error: Type.Optional(Type.String()) })),
  ),
})

const OverviewSchema = Type.Object(
  {
    at: Type.String({ format: 'date-time' }),
    topic: Type.String(),
    group: Type.String(),
    roles: Type.Object({ producer: Probe, consumer: Probe, api: Probe }),
    partitions: Type.Union([
      Type.Array(
        Type.Object({
          partition: Type.Integer(),
          end: Type.Integer({ description: 'Log end offset: the offset the next record gets' }),
          committed: Type.Union([Type.Integer(), Type.Null()], { description: "The group's committed offset" }),
          lag: Type.Integer({ description: 'Records the group has not committed yet' }),
        }),
      ),
      Type.Null(),
    ]),
    kafkaError: Type.Optional(Type.String()),
    pending: Type.Union([
      Type.Object({
        count: Type.Integer(),
        capped: Type.Boolean({ description: 'More are pending than count: counting stops at a cap' }),
        oldestAgeSeconds: Type.Integer(),
      }),
      Type.Null(),
    ]),
    pendingError: Type.Optional(Type.String()),
  },
  { description: 'Every role, every partition and the pending events, as the console shows them' },
)

export interface ConsoleSources extends Omit<OverviewSources, 'app'> {
  /** Where the event lookup reads (the same store and DLQ lookup as GET /events/{eventId} of the read API). */
  readonly events: EventStatusSources
}

export function registerConsoleRoutes(app: FastifyInstance, adminToken: string, sources: ConsoleSources): void {
  app.register(async scoped => {
    for (const [name, type] of Object.entries(assets)) {
      const body = asset(name)
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
        async (_request, reply) => reply.headers(pageHeaders).type(type).send(body),
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
