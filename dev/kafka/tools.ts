// Kafka's own command-line tools, run from the kafka-tools jar of the broker's version (dev/kafka/tools-pom.xml),
// fetched once from Maven Central into dev/kafka/.cache/tools/ (git-ignored) like the broker's jars.
import { spawnSync } from 'node:child_process'
import { existsSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { KAFKA_VERSION, paths } from './local-broker.ts'

export const toolsPaths = {
  lib: join(paths.cache, 'tools'),
  marker: join(paths.cache, 'tools', `.kafka-tools-${KAFKA_VERSION}`),
  pom: join(dirname(fileURLToPath(import.meta.url)), 'tools-pom.xml'),
}

/**
 * Makes sure the kafka-tools jars of the broker's version are in the cache and returns the Java class path that
 * holds them. The marker names the version, so a broker upgrade in pom.xml fetches the matching tools.
 */
export function toolsClassPath(log: (line: string) => void): string {
  if (!existsSync(toolsPaths.marker)) {
    log(`fetching kafka-tools ${KAFKA_VERSION} from Maven Central (once)…`)
    rmSync(toolsPaths.lib, { recursive: true, force: true })
    const r = spawnSync(
      'mvn',
      [
        '-B',
        '-q',
        '-Dstyle.color=never',
        '-f',
        toolsPaths.pom,
        'dependency:copy-dependencies',
        `-Dkafka.version=${KAFKA_VERSION}`,
        `-DoutputDirectory=${toolsPaths.lib}`,
        '-DincludeScope=runtime',
      ],
      { stdio: ['ignore', 'inherit', 'inherit'], timeout: 300_000 },
    )
    if (r.status !== 0) {
      throw new Error(
        `mvn dependency:copy-dependencies for kafka-tools failed (${r.error?.message ?? `exit ${r.status}`}); ` +
          'the Java producer ceiling needs Apache Maven and Java 17+',
      )
    }
    writeFileSync(toolsPaths.marker, new Date().toISOString())
  }
  return `${toolsPaths.lib}/*`
}
