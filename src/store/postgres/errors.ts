// pg errors → the pipeline's taxonomy, from SQLSTATE codes and Node's system error codes.
import pg from 'pg'
import { asPipelineError, PipelineError } from '../../errors.ts'
import { socketErrorCode } from '../network-errors.ts'

// Serialization failure and deadlock lose a race, not an argument: the same batch succeeds when retried.
// 57P01/57P02/57P03: the server is shutting down, crashed or not yet accepting connections; 57014: the
// statement was cancelled (statement_timeout); 53xxx: out of connections, memory or disk; 55P03: lock timeout.
// Class 28 (a refused login: wrong password, missing role), 3D000 (the database is gone) and 42501 (the login lacks
// a privilege) are the deployment's problem, not the records': until an operator fixes them every batch fails the
// same way, and dead-lettering valid events for it would lose them, so they are retried and /ready says why.
const retryableStates: ReadonlySet<string> = new Set([
  '40001',
  '40P01',
  '57P01',
  '57P02',
  '57P03',
  '57014',
  '55P03',
  '3D000',
  '42501',
])
const retryableClasses: ReadonlySet<string> = new Set(['08', '28', '53', '58'])

// pg raises these connection and timeout failures as plain Errors with no code at all, so the message is
// the only thing to go by.
const pgConnectionMessages =
  /^(Connection terminated|timeout expired|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Client was closed|Cannot use a pool after calling end)/

// Node's codes for a server certificate that does not verify (OpenSSL's X509 verification results, and
// Node's own name check): the server is not the one the CA vouches for, or the client was given the wrong CA.
const certificateCodes: ReadonlySet<string> = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])

/**
 * The message of a TLS failure between the pool and the server, or undefined when `error` is not one. Such a
 * failure is the deployment's (a wrong sslrootcert, a host the certificate does not name, a server without
 * TLS), like a refused login: every batch would fail the same way until an operator fixes it, so it is
 * DB_UNAVAILABLE and retried, never a reason to dead-letter valid events.
 */
export function tlsFailure(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string' && certificateCodes.has(code)) {
    const hint =
      code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH'
        ? 'the URL must name the host as its certificate does'
        : code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID'
          ? "renew the server's certificate, or check this machine's clock"
          : "sslrootcert must be the CA that signed the server's certificate"
    return `PostgreSQL TLS: the server's certificate was refused: ${error.message} [${code}] (${hint})`
  }
  if (typeof code === 'string' && (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_'))) {
    return `PostgreSQL TLS: the handshake failed: ${error.message} [${code}]`
  }
  // pg's own words when the server answers the TLS request with no (ssl = off).
  if (error.message === 'The server does not support SSL connections') {
    return 'PostgreSQL TLS: the server does not support TLS connections (ssl = off); enable it there, or use sslmode=disable'
  }
  return undefined
}

function fromSqlState(error: pg.DatabaseError): PipelineError {
  const state = error.code ?? ''
  const detail = error.detail ? ` (${error.detail})` : ''
  if (state.startsWith('23')) {
    return new PipelineError('CONSTRAINT_VIOLATION', `${error.message}${detail}`, {
      cause: error,
      constraint: error.constraint,
    })
  }
  // Class 22 is data that does not fit: 22001 too long for its VARCHAR, 22003 numeric or INT overflow, 22021 a
  // NUL character PostgreSQL text cannot hold. All are properties of the record, so retrying cannot help.
  if (state.startsWith('22')) {
    return new PipelineError('DATA_OUT_OF_RANGE', `${error.message}${detail}`, { cause: error })
  }
  if (retryableStates.has(state) || retryableClasses.has(state.slice(0, 2))) {
    return new PipelineError('DB_UNAVAILABLE', `PostgreSQL unavailable: ${error.message} [${state}]`, { cause: error })
  }
  return new PipelineError('INTERNAL', `${error.message} [${state}]`, { cause: error })
}

export function toPipelineError(error: unknown): PipelineError {
  if (error instanceof PipelineError) return error
  if (error instanceof pg.DatabaseError) return fromSqlState(error)
  const code = socketErrorCode(error)
  if (code !== undefined) {
    return new PipelineError('DB_UNAVAILABLE', `PostgreSQL unreachable: ${code}`, { cause: error })
  }
  const tls = tlsFailure(error)
  if (tls !== undefined) return new PipelineError('DB_UNAVAILABLE', tls, { cause: error })
  if (error instanceof Error && pgConnectionMessages.test(error.message)) {
    return new PipelineError('DB_UNAVAILABLE', `PostgreSQL unavailable: ${error.message}`, { cause: error })
  }
  return asPipelineError(error)
}
