export { bearerMatcher, requireBearer } from './auth.ts'
export {
  type BaseAppOptions,
  buildBaseApp,
  type Check,
  type Checks,
  markClosing,
  pageHeaders,
  prefersHtml,
} from './base.ts'
export { type ErrorRow, errorRows, errorTable, type HttpOnlyGuide, httpOnlyGuide } from './error-table.ts'
export {
  describePipelineError,
  type ErrorBody,
  HttpError,
  type HttpErrorCode,
  type HttpOnlyCode,
  httpOnlyCodes,
  mapError,
} from './errors.ts'
export { defaultHttpLimits, type HttpLimits, httpLimitsOf } from './limits.ts'
export {
  bearerScheme,
  bearerSecurity,
  ErrorBodySchema,
  ErrorDetail,
  type ErrorStatus,
  errorResponse,
  errorResponses,
  errorStatuses,
  validatedByHandler,
} from './schemas.ts'
