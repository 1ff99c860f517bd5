// deploy/kubernetes/ read the way a renderer reads it, and the rules the manifests keep, as small pure checks that
// each return the problems they find (an empty list for good manifests), so a test can show them failing on a
// broken copy. No renderer is needed: the Kustomize base is plain YAML, and these functions follow its
// `resources` and `components` the way `kubectl kustomize` does (patches, name prefixes and image rewrites are
// left to a real renderer; test/deploy/kubernetes.test.ts runs one when kubectl is on the PATH).
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { connectionVariables, secretName } from './exposure.ts'

/** What the manifests hold, as the yaml package reads them under YAML 1.2's core schema. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json }
export type JsonMap = { [key: string]: Json }

export interface Manifest extends JsonMap {
  apiVersion: string
  kind: string
  metadata: JsonMap
}

export const isMap = (value: Json | undefined): value is JsonMap =>
  value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value)

const mapAt = (value: Json | undefined): JsonMap => (isMap(value) ? value : {})
const listAt = (value: Json | undefined): Json[] => (Array.isArray(value) ? value : [])
const stringsAt = (value: Json | undefined): string[] => listAt(value).filter(v => typeof v === 'string')

/** Every document of a YAML text, refusing duplicate keys and whatever the parser only warns about. */
export function parseDocuments(text: string, where: string): Json[] {
  return parseAllDocuments(text, { uniqueKeys: true }).flatMap(document => {
    if (!('errors' in document)) return []
    const [problem] = [...document.errors, ...document.warnings]
    if (problem !== undefined) throw new Error(`${where}: ${problem.message}`)
    const value = document.toJS() as Json
    return value === null ? [] : [value]
  })
}

function kustomizationFile(dir: string): string | undefined {
  return ['kustomization.yaml', 'kustomization.yml', 'Kustomization']
    .map(name => join(dir, name))
    .find(file => existsSync(file))
}

export interface Tree {
  /** Resources as written in their files, in the order a renderer meets them, each with the file it came from. */
  readonly manifests: { readonly file: string; readonly manifest: Manifest }[]
  /** Kustomization files read, relative to the root given. */
  readonly kustomizations: string[]
  /** Missing references, a component used as a resource or the other way round, documents without a kind. */
  readonly problems: string[]
}

/**
 * Reads the Kustomization in `dir` and everything its `resources` and `components` reach. A `resources` entry is
 * a file or a folder holding a Kustomization; a `components` entry is a folder holding a Component.
 */
export function readTree(dir: string, root = dir): Tree {
  const tree: Tree = { manifests: [], kustomizations: [], problems: [] }
  visit(dir, 'Kustomization', root, tree, new Set())
  return tree
}

function visit(dir: string, expected: 'Kustomization' | 'Component', root: string, tree: Tree, seen: Set<string>) {
  const at = relative(root, dir) || '.'
  const file = kustomizationFile(dir)
  if (file === undefined) {
    tree.problems.push(`${at}: no kustomization.yaml`)
    return
  }
  if (seen.has(file)) {
    tree.problems.push(`${at}: reached twice (a cycle, or the same folder listed twice)`)
    return
  }
  seen.add(file)
  tree.kustomizations.push(relative(root, file))
  const [k] = parseDocuments(readFileSync(file, 'utf8'), relative(root, file))
  const kustomization = mapAt(k)
  if (kustomization['kind'] !== expected) {
    tree.problems.push(`${relative(root, file)}: kind ${String(kustomization['kind'])}, expected ${expected}`)
  }
  for (const entry of stringsAt(kustomization['resources'])) {
    const path = join(dir, entry)
    if (!existsSync(path)) tree.problems.push(`${at}: resource ${entry} does not exist`)
    else if (statSync(path).isDirectory()) visit(path, 'Kustomization', root, tree, seen)
    else readResources(path, root, tree)
  }
  for (const entry of stringsAt(kustomization['components'])) {
    const path = join(dir, entry)
    if (!existsSync(path) || !statSync(path).isDirectory()) tree.problems.push(`${at}: component ${entry} is no folder`)
    else visit(path, 'Component', root, tree, seen)
  }
  for (const patch of listAt(kustomization['patches'])) {
    const path = mapAt(patch)['path']
    if (typeof path === 'string' && !existsSync(join(dir, path))) tree.problems.push(`${at}: patch ${path} missing`)
  }
}

function readResources(file: string, root: string, tree: Tree): void {
  const where = relative(root, file)
  for (const doc of parseDocuments(readFileSync(file, 'utf8'), where)) {
    const m = mapAt(doc)
    if (typeof m['apiVersion'] !== 'string' || typeof m['kind'] !== 'string' || !isMap(m['metadata'])) {
      tree.problems.push(`${where}: a document without apiVersion, kind and metadata`)
      continue
    }
    tree.manifests.push({ file: where, manifest: m as Manifest })
  }
}

export const nameOf = (m: Manifest) => String(m.metadata['name'])
export const labelsOf = (value: Json | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(mapAt(value)).map(([k, v]) => [k, String(v)]))

/** Whether every label of `selector` is on `labels` with the same value (an empty selector matches nothing here). */
export function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  const entries = Object.entries(selector)
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v)
}

export const podSpecOf = (d: Manifest): JsonMap => mapAt(mapAt(mapAt(d['spec'])['template'])['spec'])
export const podLabelsOf = (d: Manifest) => labelsOf(mapAt(mapAt(mapAt(d['spec'])['template'])['metadata'])['labels'])
export const containersOf = (d: Manifest): JsonMap[] => listAt(podSpecOf(d)['containers']).map(mapAt)
export const initContainersOf = (d: Manifest): JsonMap[] => listAt(podSpecOf(d)['initContainers']).map(mapAt)

/**
 * Labels and selectors: each Deployment selects its own pods; each Service and PodDisruptionBudget selects the
 * pods of exactly one Deployment, and each Deployment has one of each; each HorizontalPodAutoscaler targets a
 * Deployment of the set.
 */
export function selectorProblems(manifests: readonly Manifest[]): string[] {
  const problems: string[] = []
  const deployments = manifests.filter(m => m.kind === 'Deployment')
  for (const d of deployments) {
    const selector = labelsOf(mapAt(mapAt(d['spec'])['selector'])['matchLabels'])
    if (!selects(selector, podLabelsOf(d))) problems.push(`Deployment ${nameOf(d)}: its selector misses its pods`)
  }
  const owners = (selector: Record<string, string>) => deployments.filter(d => selects(selector, podLabelsOf(d)))
  for (const kind of ['Service', 'PodDisruptionBudget'] as const) {
    const covered = new Map<string, number>()
    for (const m of manifests.filter(x => x.kind === kind)) {
      const spec = mapAt(m['spec'])
      const selector = labelsOf(kind === 'Service' ? spec['selector'] : mapAt(spec['selector'])['matchLabels'])
      const found = owners(selector)
      if (found.length !== 1) {
        problems.push(`${kind} ${nameOf(m)}: selects the pods of ${found.length} Deployments, expected 1`)
      }
      for (const d of found) covered.set(nameOf(d), (covered.get(nameOf(d)) ?? 0) + 1)
    }
    for (const d of deployments) {
      if (covered.get(nameOf(d)) !== 1)
        problems.push(`Deployment ${nameOf(d)}: has ${covered.get(nameOf(d)) ?? 0} ${kind}s`)
    }
  }
  for (const hpa of manifests.filter(m => m.kind === 'HorizontalPodAutoscaler')) {
    const target = mapAt(mapAt(hpa['spec'])['scaleTargetRef'])
    if (target['kind'] !== 'Deployment' || !deployments.some(d => nameOf(d) === target['name'])) {
      problems.push(`HorizontalPodAutoscaler ${nameOf(hpa)}: targets ${String(target['name'])}, not a Deployment here`)
    }
  }
  return problems
}

/** Ports of a container by name and by number. */
function portsOf(container: JsonMap): { names: Set<string>; numbers: Set<number> } {
  const ports = listAt(container['ports']).map(mapAt)
  return {
    names: new Set(ports.map(p => p['name']).filter((n): n is string => typeof n === 'string')),
    numbers: new Set(ports.map(p => p['containerPort']).filter((n): n is number => typeof n === 'number')),
  }
}

/** The path each probe must ask: liveness and start-up the cheap /health, readiness /ready (the checks). */
export const probePaths = { livenessProbe: '/health', startupProbe: '/health', readinessProbe: '/ready' } as const

/**
 * Probes: every role's container has a liveness and a readiness probe on the paths above, each an HTTP GET on a
 * port the container declares (by name or number); a Service's targetPort names a port of the pods it selects.
 */
export function probeProblems(manifests: readonly Manifest[]): string[] {
  const problems: string[] = []
  const deployments = manifests.filter(m => m.kind === 'Deployment')
  for (const d of deployments) {
    for (const c of containersOf(d)) {
      const where = `Deployment ${nameOf(d)}, container ${String(c['name'])}`
      const ports = portsOf(c)
      for (const [probe, path] of Object.entries(probePaths)) {
        if (!(probe in c)) {
          if (probe !== 'startupProbe') problems.push(`${where}: no ${probe}`)
          continue
        }
        const get = mapAt(mapAt(c[probe])['httpGet'])
        const port = get['port']
        if (get['path'] !== path) problems.push(`${where}: ${probe} asks ${String(get['path'])}, expected ${path}`)
        const known = typeof port === 'number' ? ports.numbers.has(port) : ports.names.has(String(port))
        if (!known)
          problems.push(`${where}: ${probe} probes port ${String(port)}, which the container does not declare`)
      }
    }
  }
  for (const s of manifests.filter(m => m.kind === 'Service')) {
    const selector = labelsOf(mapAt(s['spec'])['selector'])
    const pods = deployments
      .filter(d => selects(selector, podLabelsOf(d)))
      .flatMap(containersOf)
      .map(portsOf)
    for (const p of listAt(mapAt(s['spec'])['ports']).map(mapAt)) {
      const target = p['targetPort'] ?? p['port']
      const known = pods.some(x => (typeof target === 'number' ? x.numbers.has(target) : x.names.has(String(target))))
      if (!known) problems.push(`Service ${nameOf(s)}: targetPort ${String(target)} is no port of its pods`)
    }
  }
  return problems
}

/** What the process may take after SIGTERM besides SHUTDOWN_TIMEOUT_MS: src/cli/serve.ts's exit timer. */
export const exitDelaySeconds = 1
/** Room for the kubelet and a loaded node, on top of what the process may take. */
export const graceMarginSeconds = 3

/**
 * The shortest terminationGracePeriodSeconds that lets a role drain: the grace period runs from the start of the
 * preStop hook, SIGTERM comes after it, and the role then takes up to SHUTDOWN_TIMEOUT_MS plus its exit timer.
 */
export function minimumGraceSeconds(preStopSeconds: number, shutdownTimeoutMs: number): number {
  return preStopSeconds + Math.ceil(shutdownTimeoutMs / 1000) + exitDelaySeconds + graceMarginSeconds
}

/** The preStop sleep of a container, in seconds (0 without one). */
export function preStopSeconds(container: JsonMap): number {
  const preStop = mapAt(mapAt(container['lifecycle'])['preStop'])
  const seconds = mapAt(preStop['sleep'])['seconds']
  return typeof seconds === 'number' ? seconds : 0
}

/** Each Deployment's grace period against its preStop and the SHUTDOWN_TIMEOUT_MS its containers get. */
export function graceProblems(manifests: readonly Manifest[], shutdownTimeoutMs: number): string[] {
  const problems: string[] = []
  for (const d of manifests.filter(m => m.kind === 'Deployment')) {
    const grace = podSpecOf(d)['terminationGracePeriodSeconds']
    for (const c of containersOf(d)) {
      const preStop = preStopSeconds(c)
      if (preStop === 0) problems.push(`Deployment ${nameOf(d)}: no preStop sleep (Services would still route here)`)
      const needed = minimumGraceSeconds(preStop, shutdownTimeoutMs)
      if (typeof grace !== 'number' || grace < needed) {
        problems.push(
          `Deployment ${nameOf(d)}: terminationGracePeriodSeconds ${String(grace)} < ${needed} (preStop ${preStop} s + ` +
            `SHUTDOWN_TIMEOUT_MS ${shutdownTimeoutMs} ms + exit ${exitDelaySeconds} s + margin ${graceMarginSeconds} s)`,
        )
      }
    }
  }
  return problems
}

/** Names that hold a secret: exposure.ts's spelling rule, plus the variables whose connection string holds one. */
export const secretVariable = new RegExp(`${secretName.source}|^(${[...connectionVariables].join('|')})$`)

/**
 * Hardening of every pod and container (init containers too): non-root with a numeric user (runAsNonRoot cannot
 * be checked against a user name), a read-only root file system, no privilege escalation, every capability
 * dropped, no service account token; secrets only by reference to a Secret, never a literal value or a ConfigMap.
 */
export function securityProblems(manifests: readonly Manifest[]): string[] {
  const problems: string[] = []
  for (const d of manifests.filter(m => m.kind === 'Deployment')) {
    const pod = podSpecOf(d)
    const context = mapAt(pod['securityContext'])
    const where = `Deployment ${nameOf(d)}`
    if (context['runAsNonRoot'] !== true) problems.push(`${where}: runAsNonRoot is not true`)
    const uid = context['runAsUser']
    if (typeof uid !== 'number' || uid === 0) problems.push(`${where}: runAsUser is not a numeric non-root user`)
    if (pod['automountServiceAccountToken'] !== false) problems.push(`${where}: mounts a service account token`)
    for (const c of [...initContainersOf(d), ...containersOf(d)]) {
      const at = `${where}, container ${String(c['name'])}`
      const sc = mapAt(c['securityContext'])
      if (sc['readOnlyRootFilesystem'] !== true) problems.push(`${at}: root file system not read-only`)
      if (sc['allowPrivilegeEscalation'] !== false) problems.push(`${at}: privilege escalation allowed`)
      if (sc['privileged'] === true) problems.push(`${at}: privileged`)
      if (!stringsAt(mapAt(sc['capabilities'])['drop']).includes('ALL')) problems.push(`${at}: capabilities kept`)
      for (const e of listAt(c['env']).map(mapAt)) {
        const name = String(e['name'])
        if (!secretVariable.test(name)) continue
        if ('value' in e || !isMap(mapAt(e['valueFrom'])['secretKeyRef'])) {
          problems.push(`${at}: ${name} is not taken from a Secret (secretKeyRef)`)
        }
      }
      if (!isMap(c['resources']) || !isMap(mapAt(c['resources'])['requests'])) problems.push(`${at}: no requests`)
      if (mapAt(mapAt(c['resources'])['limits'])['memory'] === undefined) problems.push(`${at}: no memory limit`)
    }
  }
  for (const cm of manifests.filter(m => m.kind === 'ConfigMap')) {
    for (const key of Object.keys(mapAt(cm['data']))) {
      if (secretVariable.test(key)) problems.push(`ConfigMap ${nameOf(cm)}: ${key} is a secret in plain settings`)
    }
  }
  return problems
}

/** Every image reference of the manifests, init containers included. */
export function imagesOf(manifests: readonly Manifest[]): string[] {
  return manifests
    .filter(m => m.kind === 'Deployment')
    .flatMap(d => [...initContainersOf(d), ...containersOf(d)].map(c => String(c['image'])))
}

/**
 * The anchor GitHub (and most Markdown renderers) give a heading: lower case, punctuation other than hyphens and
 * underscores dropped, each space a hyphen.
 */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-')
}

/** The anchors of a Markdown text's headings (`#` to `######`), outside fenced code blocks. */
export function markdownAnchors(text: string): Set<string> {
  const anchors = new Set<string>()
  let fenced = false
  for (const line of text.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced
    const m = fenced ? null : /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line)
    if (m) anchors.add(headingAnchor(m[1]!))
  }
  return anchors
}
