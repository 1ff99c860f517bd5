export { consolePage, registerConsoleRoutes } from './console-routes.ts'
export { type Overview, type PartitionRow, partitionRows, type RoleProbe } from './overview.ts'
