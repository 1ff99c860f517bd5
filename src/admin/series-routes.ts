// GET /admin/series: the console's charts, the last samples of this consumer member (src/consumer/series.ts), or
// with PROMETHEUS_URL the same series from Prometheus (series-prometheus.ts, this member's samples when Prometheus
// fails), behind the admin token. The answer is bounded either way: at most seriesCapacity points of four columns,
// and two columns for each of at most seriesMaxPartitions partitions.
import type { FastifyInstance } from 'fastify'
import Type, { type Static } from 'typebox'
import { type SeriesSnapshot, seriesCapacity, seriesMaxPartitions } from '../consumer/index.ts'
import { bearerSecurity, errorResponses, requireBearer } from '../http/index.ts'
import { adminTokenRequired } from './routes.ts'
import { PrometheusSeries, type SeriesAnswer } from './series-prometheus.ts'

const Column = (description: string) =>
  Type.Array(Type.Union([Type.Number(), Type.Null()]), {
    maxItems: seriesCapacity,
    description: `${description}; one value per sample, null where unknown`,
  })

export const SeriesResponse = Type.Object(
  {
    source: Type.Union([Type.Literal('memory'), Type.Literal('prometheus')], {
      description: "memory: this member's own samples; prometheus: the same series from PROMETHEUS_URL",
    }),
    note: Type.Optional(
      Type.String({ description: "Why the answer is this member's samples although PROMETHEUS_URL is set" }),
    ),
    intervalMs: Type.Integer({ description: 'Time between two samples (CONSOLE_CHART_INTERVAL)' }),
    capacity: Type.Integer({ description: 'Samples kept: the charts span capacity × intervalMs' }),
    bytes: Type.Integer({ description: "The ring's size in this process's memory" }),
    at: Type.Array(Type.Number(), {
      maxItems: seriesCapacity,
      description: 'When each sample was taken (ms since the epoch), oldest first',
    }),
    applied: Column('Records this member applied per second'),
    deadLetters: Column('Records this member dead-lettered per second'),
    pending: Column('Pending events (every member’s, as last counted)'),
    partitions: Type.Array(
      Type.Object({
        partition: Type.Integer(),
        lagRecords: Column('Records between the committed offset and the log end'),
        lagSeconds: Column('Age of the oldest record not handled yet, in seconds'),
      }),
      { maxItems: seriesMaxPartitions, description: 'The partitions this member owned during the span' },
    ),
    partitionsOmitted: Type.Integer({ description: `Partitions owned but not charted (past ${seriesMaxPartitions})` }),
  },
  { description: "The last samples of this consumer member's throughput, dead letters, pending events and lag" },
)

export interface SeriesSources {
  /** This member's samples. */
  readonly memory: () => SeriesSnapshot
  /** Where to ask for the series first (PROMETHEUS_URL), and the topic whose lag it charts. */
  readonly prometheus?: { readonly url: string; readonly topic: string; readonly timeoutMs?: number }
}

export function registerSeriesRoutes(app: FastifyInstance, adminToken: string, sources: SeriesSources): void {
  const prometheus =
    sources.prometheus === undefined
      ? undefined
      : new PrometheusSeries({ ...sources.prometheus, memory: sources.memory })
  const answer = (): Promise<SeriesAnswer> =>
    prometheus === undefined ? Promise.resolve({ source: 'memory', ...sources.memory() }) : prometheus.answer()
  app.register(async scoped => {
    scoped.addHook('onRequest', requireBearer(adminToken, 'ADMIN_TOKEN'))
    scoped.get(
      '/admin/series',
      {
        schema: {
          summary: "The console's charts: this consumer member's last samples (an hour at the default interval)",
          tags: ['admin'],
          ...bearerSecurity(adminToken),
          response: { 200: SeriesResponse, ...errorResponses({ 401: adminTokenRequired }) },
        },
      },
      // Typed as the schema's shape: the compiler checks that the answer fits it.
      (): Promise<Static<typeof SeriesResponse>> => answer(),
    )
  })
}
