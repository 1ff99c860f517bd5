// The admin API and the console: DLQ operations and the pipeline's overview over HTTP, behind ADMIN_TOKEN.
export { consolePage, registerConsoleRoutes } from './console-routes.ts'
export { type Overview, type PartitionRow, partitionRows, type RoleProbe } from './overview.ts'
export { PauseBody, PauseStateResponse, pauseStateBody, ResumeBody, registerPauseRoutes } from './pause-routes.ts'
export { type RebuildControl, type RebuildRoutes, registerRebuildRoutes } from './rebuild-routes.ts'
export { type AdminRoutes, registerAdminRoutes } from './routes.ts'
export { PrometheusSeries, type SeriesAnswer } from './series-prometheus.ts'
export { registerSeriesRoutes, SeriesResponse, type SeriesSources } from './series-routes.ts'
