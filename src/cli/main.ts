// The `pipeline` command: `pipeline all|producer|consumer|api|migrate|config|config-table`.
import { ConfigError, configTable, describeConfig, loadConfig } from '../config/index.ts'

const usage = `usage: pipeline <command>

commands:
  all            run the producer (:8080), the consumer (:8081) and the read API (:8082) in one process
  producer       run the producer alone (POST /produce)
  consumer       run the consumer alone
  api            run the read API alone
  migrate        create or upgrade the database schema, then exit
  config         print the configuration in effect (secrets redacted)
  config-table   print the configuration reference as a markdown table

configuration (environment variables):
`

async function main(argv: string[]): Promise<number> {
  const command = argv[0]
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${usage}${configTable()}\n`)
    return command === undefined ? 2 : 0
  }
  if (command === 'config-table') {
    process.stdout.write(`${configTable()}\n`)
    return 0
  }
  const config = loadConfig()
  switch (command) {
    case 'config':
      process.stdout.write(`${JSON.stringify(describeConfig(config), null, 2)}\n`)
      return 0
    default:
      process.stderr.write(`pipeline: unknown command "${command}"\n\n${usage}`)
      return 2
  }
}

try {
  process.exitCode = await main(process.argv.slice(2))
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`pipeline: ${error.message}\n`)
    process.exitCode = 78 // EX_CONFIG
  } else {
    throw error
  }
}
