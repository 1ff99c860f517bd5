// Operating the dead-letter queue: browse, stats, redrive, purge, audit; shared by the CLI and the admin API.
export { type AuditRecord, auditKeyOf, auditRecord, pauseAudit, pauseAuditRecord } from './audit.ts'
export {
  listPage,
  noType,
  type Page,
  type Stats,
  scanNewestFirst,
  scanOldestFirst,
} from './browse.ts'
export { type AdminConfig, adminFromConfig, createDlqAdmin, type DlqAdmin } from './dlq-admin.ts'
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
