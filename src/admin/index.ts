// The admin stage: operating the DLQ (browse, stats, redrive, purge, audit) from the command line and over HTTP.
export { type AuditRecord, auditKeyOf, auditRecord } from './audit.ts'
export {
  listPage,
  noType,
  type Page,
  type Stats,
  scanNewestFirst,
  scanOldestFirst,
} from './browse.ts'
export { consolePage, registerConsoleRoutes } from './console-routes.ts'
export {
  type DeadLetterSample,
  deadLettersOf,
  deadLettersShown,
  decideStatus,
  type EventStatus,
  eventStatus,
  type StatusWord,
} from './event-status.ts'
export { EventStatusBody } from './event-status-schema.ts'
export {
  type DlqFilter,
  filterKeys,
  isEmptyFilter,
  matches,
  parseFilter,
  parseInstant,
  typeOf,
  UsageError,
} from './filter.ts'
export { fixedPayload } from './fix.ts'
export { claimsKeyOf, type JobStatus, jobKeyOf, jobMaxEntries, jobsKeyOf } from './job-store.ts'
export { LeaseLost } from './lease.ts'
export { type Overview, type PartitionRow, partitionRows, type RoleProbe } from './overview.ts'
export { decodeCursor, encodeCursor, pageLimitDefault, pageLimitMax, parseLimit } from './paging.ts'
export type { PurgeResult } from './purge.ts'
export { delayBefore, sliceSize } from './rate.ts'
export { RedriveBusy, type RedriveRequest, type Selection } from './redrive.ts'
export {
  headersOf,
  type JobEntry,
  partitionFor,
  redrivability,
  redriveHeaders,
  resolveInDoubt,
} from './redrive-plan.ts'
export { type AdminRoutes, registerAdminRoutes } from './routes.ts'
export { type AdminConfig, adminFromConfig, createDlqAdmin, type DlqAdmin } from './service.ts'
