// The entry point of the `pipeline` command (what the container image runs): node src/cli/main.ts <command>.
import { runPipeline } from './pipeline.ts'

process.exitCode = await runPipeline(process.argv.slice(2))
