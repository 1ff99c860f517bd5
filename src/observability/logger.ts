// pino JSON logs. Context object first, constant message second; every line about an event carries eventId,
// type, key, topic, partition and offset (built by eventFields, event-fields.ts).
import { type Logger, pino } from 'pino'
import pinoPretty from 'pino-pretty'
import type { LogLevel } from '../config/index.ts'

export type { Logger }

/**
 * Paths whose values never reach a log line. Named paths only: pino checks a wildcard such as `*.password`
 * against every key of every line, a cost per line comparable to the consumer's work per event at INFO
 * (docs/performance.md).
 */
export const redactPaths = [
  'password',
  'sasl.password',
  'connection.sasl.password',
  'authentication.options.password',
  'config.databaseUrl',
  'config.mssqlConn',
  'config.redisPassword',
  'config.database.url',
  'config.database.connectionString',
  'req.headers.authorization',
  'req.headers.cookie',
]

// One asynchronous stdout destination per process, shared by every logger (the three roles of `pipeline all`
// and their Fastify apps): lines are buffered while a write is in progress and go out together in the next one,
// instead of one blocking write per line, which cost 20–30 % of the consumer's throughput at INFO
// (docs/performance.md). Sharing it keeps writes to fd 1 in order and whole-line. pino flushes it synchronously
// when the process exits, whatever the reason, short of SIGKILL (which can lose the lines of the last write).
let stdout: pino.DestinationStream | undefined
let format: 'json' | 'pretty' = 'json'

/**
 * How this process writes its log lines, decided once at start before any logger exists: JSON by default (for
 * log stores and pipes), pino-pretty for a person (LOG_FORMAT=pretty, or auto on a terminal). Pretty lines are
 * formatted in this thread, which is fine for a terminal and too slow for a consumer at full speed.
 */
export function configureLogOutput(wanted: 'auto' | 'json' | 'pretty', isTty = process.stdout.isTTY === true): void {
  format = wanted === 'auto' ? (isTty ? 'pretty' : 'json') : wanted
}

export function logOutputIsPretty(): boolean {
  return format === 'pretty'
}

function sharedStdout(): pino.DestinationStream {
  stdout ??=
    format === 'pretty'
      ? pinoPretty({
          destination: 1,
          colorize: process.stdout.isTTY === true,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname,name',
          messageKey: 'msg',
        })
      : pino.destination({ dest: 1, sync: false })
  return stdout
}

// pino's isoTime builds a Date and its ISO text for every line; at INFO the consumer writes tens of lines per
// millisecond, so the text of the current millisecond is kept and reused (docs/performance.md).
let lastMs = -1
let lastTime = ''
function isoTime(): string {
  const now = Date.now()
  if (now !== lastMs) {
    lastMs = now
    lastTime = `,"time":"${new Date(now).toISOString()}"`
  }
  return lastTime
}

export function createLogger(level: LogLevel, name: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    name,
    base: { role: name },
    timestamp: isoTime,
    formatters: { level: label => ({ level: label }) },
    redact: { paths: redactPaths, censor: '[redacted]' },
    serializers: { err: pino.stdSerializers.errWithCause, error: pino.stdSerializers.errWithCause },
  }
  return pino(options, destination ?? sharedStdout())
}
