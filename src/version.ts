// The pipeline's version, from its package.json (semantic versioning; CHANGELOG.md says what each one changed).
// Read once, when first asked: the container image and the installed package ship package.json beside the code.
import { readFileSync } from 'node:fs'

let cached: string | undefined

export function pipelineVersion(): string {
  cached ??= (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
    .version
  return cached
}
