// pino JSON logs. Context object first, constant message second; every line about an event carries eventId,
// type, key, topic, partition and offset (see eventFields).
import { type Logger, pino } from 'pino'
import type { LogLevel } from '../config/index.ts'

export type { Logger }

/** Paths whose values never reach a log line, wherever they appear in the logged object. */
export const redactPaths = [
  'password',
  '*.password',
  'config.databaseUrl',
  'config.mssqlConn',
  'config.redisPassword',
  'config.database.url',
  'config.database.connectionString',
  'req.headers.authorization',
  'req.headers.cookie',
]

export function createLogger(level: LogLevel, name: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    name,
    base: { role: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: label => ({ level: label }) },
    redact: { paths: redactPaths, censor: '[redacted]' },
    serializers: { err: pino.stdSerializers.errWithCause, error: pino.stdSerializers.errWithCause },
  }
  return destination ? pino(options, destination) : pino(options)
}
