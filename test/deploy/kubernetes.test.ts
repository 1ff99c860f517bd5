// deploy/kubernetes/ checked without a cluster: every manifest validates against the Kubernetes API schemas of a
// pinned release (kubernetes-models) or the Prometheus operator's CRDs; every Kustomization reaches only files that
// exist; labels, selectors, probes and ports agree; the grace period fits the preStop sleep and
// SHUTDOWN_TIMEOUT_MS; the pods are hardened and take secrets only from a Secret; the three roles run as the
// compose file runs them, with variables src/config reads; the PrometheusRule holds deploy/alerts.yml's rules;
// the autoscaler stops at the partition count. Each check is also shown catching a broken copy. When kubectl is on
// the PATH, the example overlay is rendered by its Kustomize and the rendered objects are checked again.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule'
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor'
import { Deployment } from 'kubernetes-models/apps/v1/Deployment'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget'
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap'
import { Service } from 'kubernetes-models/v1/Service'
import { parse } from 'yaml'
import { which } from '../../dev/tools.ts'
import { loadConfig, type Role, spec } from '../../src/config/index.ts'
import {
  containersOf,
  graceProblems,
  imagesOf,
  initContainersOf,
  isMap,
  type Json,
  type JsonMap,
  type Manifest,
  minimumGraceSeconds,
  nameOf,
  parseDocuments,
  podSpecOf,
  probeProblems,
  readTree,
  securityProblems,
  selectorProblems,
} from './kubernetes.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const kube = join(root, 'deploy/kubernetes')
const read = (file: string) => readFileSync(join(root, file), 'utf8')

/**
 * The Kubernetes release whose OpenAPI schemas validate the manifests: kubernetes-models 5.x is generated from
 * Kubernetes v1.36.0 (its changelog), and package.json pins the package to one exact version.
 */
const kubernetesModels = { package: 'kubernetes-models', version: '5.1.0', kubernetes: '1.36' } as const

/** One schema per kind the deploy files may use: a kind without one here fails, so nothing goes unchecked. */
const models: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
}

/** The schema's complaint about `m`, or undefined when it is valid. */
function schemaProblem(m: Manifest): string | undefined {
  const Model = models[`${m.apiVersion}/${m.kind}`]
  if (Model === undefined) return `${m.kind} ${nameOf(m)}: no schema for ${m.apiVersion}/${m.kind}`
  try {
    new Model(structuredClone(m) as never).validate()
    return undefined
  } catch (error) {
    return `${m.kind} ${nameOf(m)}: ${(error as Error).message}`
  }
}

const tree = readTree(join(kube, 'overlays/example'), kube)
const manifests = tree.manifests.map(x => x.manifest)
const find = (kind: string, name: string) => {
  const m = manifests.find(x => x.kind === kind && nameOf(x) === name)
  assert.ok(m, `${kind} ${name}`)
  return m
}
const roles: readonly Role[] = ['producer', 'consumer', 'api']
const deployment = (role: Role) => find('Deployment', `event-pipeline-${role}`)
const configMap = find('ConfigMap', 'event-pipeline')
const configData = configMap['data'] as Record<string, string>
const defaultOf = (name: string) => Object.values(spec).find(v => v.name === name)?.default

/** A value for each Secret key, as an operator's Secret would hold it. */
const secretSamples: Record<string, string> = {
  MIGRATE_DATABASE_URL: 'postgres://pipeline_migrate:pw@db:5432/events',
  CONSUMER_DATABASE_URL: 'postgres://pipeline_consumer:pw@db:5432/events',
  API_DATABASE_URL: 'postgres://pipeline_api:pw@db:5432/events',
  REDIS_PASSWORD: 'redis-password',
  ADMIN_TOKEN: 'admin-token-0123456789abcdef',
  PRODUCE_TOKEN: 'produce-token-0123456789abcdef',
  READ_TOKEN: 'read-token-0123456789abcdef',
}

/** A container's environment as the kubelet builds it: the ConfigMap's data, then its own env. */
function environment(container: JsonMap): Record<string, string> {
  const env: Record<string, string> = {}
  for (const from of (container['envFrom'] as JsonMap[] | undefined) ?? []) {
    const ref = from['configMapRef'] as JsonMap | undefined
    assert.equal(ref?.['name'], 'event-pipeline', 'envFrom only the ConfigMap: secrets are taken key by key')
    Object.assign(env, configData)
  }
  for (const e of (container['env'] as JsonMap[] | undefined) ?? []) {
    const secret = (e['valueFrom'] as JsonMap | undefined)?.['secretKeyRef'] as JsonMap | undefined
    if (secret !== undefined) {
      assert.equal(secret['name'], 'event-pipeline', `${String(e['name'])} comes from the Secret event-pipeline`)
      const value = secretSamples[String(secret['key'])]
      assert.ok(value !== undefined, `Secret key ${String(secret['key'])} is documented in secretSamples`)
      env[String(e['name'])] = value
    } else {
      env[String(e['name'])] = String(e['value'])
    }
  }
  return env
}

const names: ReadonlySet<string> = new Set(Object.values(spec).map(v => v.name))
const readers = (name: string): readonly Role[] => {
  const v = Object.values(spec).find(s => s.name === name)
  return v !== undefined && 'roles' in v ? (v.roles as readonly Role[]) : roles
}

/** Kubernetes quantities of memory, in bytes: 384Mi, 1Gi, 500M. */
function bytes(quantity: Json | undefined): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(String(quantity))
  assert.ok(m, `a memory quantity: ${String(quantity)}`)
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, K: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ''] ?? 1
  return Number(m[1]) * unit
}

describe('deploy/kubernetes', () => {
  it('reaches only files that exist, and the example overlay reaches the base, both components and every file', () => {
    assert.deepEqual(tree.problems, [])
    assert.deepEqual(tree.kustomizations.sort(), [
      'base/kustomization.yaml',
      'components/consumer-autoscaling/kustomization.yaml',
      'components/monitoring/kustomization.yaml',
      'overlays/example/kustomization.yaml',
    ])
    const listed = spawnSync('git', ['ls-files', '--others', '--cached', '--exclude-standard', 'deploy/kubernetes'], {
      cwd: root,
      encoding: 'utf8',
    })
    const files = listed.stdout.split('\n').filter(f => f.endsWith('.yaml') && !f.endsWith('/kustomization.yaml'))
    const reached = new Set(tree.manifests.map(x => `deploy/kubernetes/${x.file}`))
    assert.ok(files.length > 0, 'git lists the files')
    for (const file of files) assert.ok(reached.has(file), `${file} is reached by a Kustomization`)
  })

  it(`validates every object against Kubernetes ${kubernetesModels.kubernetes}'s schemas or the Prometheus operator's`, () => {
    const pkg = JSON.parse(read('package.json')) as { devDependencies: Record<string, string> }
    assert.equal(pkg.devDependencies[kubernetesModels.package], kubernetesModels.version, 'pinned to one version')
    assert.deepEqual(manifests.map(m => `${m.kind} ${nameOf(m)}`).sort(), [
      'ConfigMap event-pipeline',
      'Deployment event-pipeline-api',
      'Deployment event-pipeline-consumer',
      'Deployment event-pipeline-producer',
      'HorizontalPodAutoscaler event-pipeline-consumer',
      'PodDisruptionBudget event-pipeline-api',
      'PodDisruptionBudget event-pipeline-consumer',
      'PodDisruptionBudget event-pipeline-producer',
      'PrometheusRule event-pipeline',
      'Service event-pipeline-api',
      'Service event-pipeline-consumer',
      'Service event-pipeline-producer',
      'ServiceMonitor event-pipeline',
    ])
    assert.deepEqual(manifests.map(schemaProblem).filter(Boolean), [])
  })

  it('runs the three roles from one image, as the compose file does, on their ports, with variables they read', () => {
    const version = (JSON.parse(read('package.json')) as { version: string }).version
    for (const image of imagesOf(manifests)) assert.equal(image, `event-pipeline:${version}`, 'the release image')
    for (const role of roles) {
      const d = deployment(role)
      const [container, ...others] = containersOf(d)
      assert.ok(container !== undefined && others.length === 0, `${role}: one container`)
      assert.deepEqual(container['args'], [role], `${role}: the role is the command, as in the compose file`)
      assert.equal(container['command'], undefined, `${role}: the image's entrypoint (node, its flags, the bundle)`)
      const port = Number(defaultOf(`${role === 'api' ? 'API' : role.toUpperCase()}_PORT`))
      assert.deepEqual(container['ports'], [{ name: 'http', containerPort: port }], `${role} listens on ${port}`)
      const service = find('Service', `event-pipeline-${role}`)
      assert.deepEqual((service['spec'] as JsonMap)['ports'], [{ name: 'http', port, targetPort: 'http' }])
      const env = environment(container)
      for (const key of Object.keys(env)) {
        assert.ok(names.has(key), `${role}: ${key} is not a variable of src/config/spec.ts`)
        assert.ok(readers(key).includes(role), `${role} does not read ${key}`)
      }
      const config = loadConfig(env, { roles: [role], alone: true })
      assert.equal(config.portOf(role, true), port)
      // `pipeline migrate` reads the store's variables, those of the roles that have a store.
      for (const init of initContainersOf(d)) {
        assert.deepEqual(init['args'], ['migrate'])
        const initEnv = environment(init)
        for (const key of Object.keys(initEnv)) assert.ok(readers(key).includes('consumer'), `migrate reads ${key}`)
        assert.equal(loadConfig(initEnv, { roles: ['consumer', 'api'], alone: false }).database.engine, 'postgres')
      }
      assert.equal(
        initContainersOf(d).length,
        role === 'producer' ? 0 : 1,
        `${role}: migrates first iff it has a store`,
      )
    }
    // The ConfigMap holds only variables every role reads (each takes all of it).
    for (const key of Object.keys(configData)) {
      assert.ok(names.has(key), key)
      assert.deepEqual([...readers(key)].sort(), [...roles].sort(), `${key} is read by every role`)
    }
    assert.doesNotThrow(() => loadConfig(configData))
  })

  it('matches labels and selectors: each role has its Service and PodDisruptionBudget', () => {
    assert.deepEqual(selectorProblems(manifests), [])
  })

  it('probes /health for liveness and start-up, /ready for readiness, on ports the containers declare', () => {
    assert.deepEqual(probeProblems(manifests), [])
    for (const role of roles) assert.ok('startupProbe' in containersOf(deployment(role))[0]!, role)
  })

  it('gives each role a grace period that fits its preStop sleep and SHUTDOWN_TIMEOUT_MS', () => {
    assert.equal(minimumGraceSeconds(5, 9000), 18)
    assert.equal(minimumGraceSeconds(5, 9001), 19, 'a part of a second counts as a second')
    assert.equal(minimumGraceSeconds(0, 1), 5)
    const shutdown = Number(configData['SHUTDOWN_TIMEOUT_MS'] ?? defaultOf('SHUTDOWN_TIMEOUT_MS'))
    assert.equal(String(shutdown), defaultOf('SHUTDOWN_TIMEOUT_MS'), 'the ConfigMap repeats the default')
    assert.deepEqual(graceProblems(manifests, shutdown), [])
  })

  it('hardens every pod and takes every secret from the Secret by key', () => {
    assert.deepEqual(securityProblems(manifests), [])
    const keys = new Set(
      manifests
        .filter(m => m.kind === 'Deployment')
        .flatMap(d => [...initContainersOf(d), ...containersOf(d)])
        .flatMap(c => ((c['env'] as JsonMap[] | undefined) ?? []).map(e => e['valueFrom'] as JsonMap | undefined))
        .map(v => (v?.['secretKeyRef'] as JsonMap | undefined)?.['key'])
        .filter((k): k is string => typeof k === 'string'),
    )
    assert.deepEqual([...keys].sort(), Object.keys(secretSamples).sort())
    const readme = read('README.md')
    for (const key of keys) assert.ok(readme.includes(`\`${key}\``), `README documents the Secret key ${key}`)
  })

  it("sizes memory from docs/performance.md: the consumer's limit above its measured peak, limits above requests", () => {
    // The bundled consumer's worst drain of 1,000,000 events peaked at 222.0 MB (docs/performance.md).
    const consumer = containersOf(deployment('consumer'))[0]!['resources'] as JsonMap
    assert.ok(bytes((consumer['limits'] as JsonMap)['memory']) > 222e6 * 1.5, 'half again the worst peak')
    assert.match(read('docs/performance.md'), /222\.0\)/)
    for (const d of manifests.filter(m => m.kind === 'Deployment')) {
      for (const c of [...initContainersOf(d), ...containersOf(d)]) {
        const r = c['resources'] as JsonMap
        const request = bytes((r['requests'] as JsonMap)['memory'])
        assert.ok(bytes((r['limits'] as JsonMap)['memory']) > request, `${nameOf(d)}/${String(c['name'])}`)
      }
    }
  })

  it("monitors the roles as deploy/prometheus.yml does, with deploy/alerts.yml's rules", () => {
    const rule = find('PrometheusRule', 'event-pipeline')
    const alerts = parse(read('deploy/alerts.yml')) as { groups: Json }
    assert.deepEqual((rule['spec'] as JsonMap)['groups'], alerts.groups, 'the PrometheusRule is alerts.yml')
    const monitor = find('ServiceMonitor', 'event-pipeline')
    const ms = monitor['spec'] as JsonMap
    const selector = (ms['selector'] as JsonMap)['matchLabels'] as Record<string, string>
    const services = manifests.filter(m => m.kind === 'Service')
    const jobLabel = String(ms['jobLabel'])
    const jobs = services.map(s => {
      const labels = (s.metadata['labels'] ?? {}) as Record<string, string>
      assert.ok(
        Object.entries(selector).every(([k, v]) => labels[k] === v),
        `${nameOf(s)} is scraped`,
      )
      return labels[jobLabel]
    })
    const prometheus = parse(read('deploy/prometheus.yml')) as { scrape_configs: { job_name: string }[] }
    assert.deepEqual(jobs.sort(), prometheus.scrape_configs.map(j => j.job_name).sort(), 'the same job labels')
    for (const endpoint of ms['endpoints'] as JsonMap[]) {
      assert.equal(endpoint['path'], '/metrics')
      for (const s of services) {
        const ports = ((s['spec'] as JsonMap)['ports'] as JsonMap[]).map(p => p['name'])
        assert.ok(ports.includes(endpoint['port'] as string), `${nameOf(s)} has port ${String(endpoint['port'])}`)
      }
    }
  })

  it('autoscales the consumers no further than the partitions, and hands the replica count to the autoscaler', () => {
    const hpa = find('HorizontalPodAutoscaler', 'event-pipeline-consumer')
    const partitions = Number(configData['KAFKA_PARTITIONS'] ?? defaultOf('KAFKA_PARTITIONS'))
    const hs = hpa['spec'] as JsonMap
    assert.ok(Number(hs['maxReplicas']) <= partitions, 'members past the partition count would sit idle')
    assert.ok(Number(hs['minReplicas']) >= 1)
    assert.ok(Number((deployment('consumer')['spec'] as JsonMap)['replicas']) <= partitions)
    const component = parse(read('deploy/kubernetes/components/consumer-autoscaling/kustomization.yaml')) as {
      patches: { target: JsonMap; patch: string }[]
    }
    const [patch] = component.patches
    assert.equal(patch?.target['name'], 'event-pipeline-consumer')
    assert.deepEqual(parse(patch?.patch ?? ''), [{ op: 'remove', path: '/spec/replicas' }])
  })
})

describe('deploy/kubernetes: the checks catch a broken manifest', () => {
  const broken = (kind: string, name: string, change: (m: JsonMap) => void): Manifest[] =>
    manifests.map(m => {
      if (m.kind !== kind || nameOf(m) !== name) return m
      const copy = structuredClone(m)
      change(copy)
      return copy
    })
  const consumerContainer = (m: JsonMap) => containersOf(m as Manifest)[0]!

  it('a field of the wrong type fails the schema', () => {
    const bad = broken('Deployment', 'event-pipeline-consumer', m => {
      ;(consumerContainer(m)['ports'] as JsonMap[])[0]!['containerPort'] = '8081'
    })
    const problems = bad.map(schemaProblem).filter(Boolean)
    assert.equal(problems.length, 1)
    assert.match(String(problems[0]), /containerPort must be integer/)
    const missing = broken('PrometheusRule', 'event-pipeline', m => {
      delete ((m['spec'] as JsonMap)['groups'] as JsonMap[])[0]!['name']
    })
    assert.match(String(missing.map(schemaProblem).find(Boolean)), /groups\/0 must have required property name/)
  })

  it('a Service selecting nothing, or a probe on an undeclared port, is reported', () => {
    const service = broken('Service', 'event-pipeline-api', m => {
      ;((m['spec'] as JsonMap)['selector'] as JsonMap)['app.kubernetes.io/component'] = 'read-api'
    })
    assert.deepEqual(selectorProblems(service), [
      'Service event-pipeline-api: selects the pods of 0 Deployments, expected 1',
      'Deployment event-pipeline-api: has 0 Services',
    ])
    const probe = broken('Deployment', 'event-pipeline-producer', m => {
      ;((consumerContainer(m)['readinessProbe'] as JsonMap)['httpGet'] as JsonMap)['port'] = 'metrics'
    })
    assert.deepEqual(probeProblems(probe), [
      'Deployment event-pipeline-producer, container producer: readinessProbe probes port metrics, which the container does not declare',
    ])
  })

  it('a grace period too short for SHUTDOWN_TIMEOUT_MS, or a longer SHUTDOWN_TIMEOUT_MS, is reported', () => {
    const short = broken('Deployment', 'event-pipeline-consumer', m => {
      podSpecOf(m as Manifest)['terminationGracePeriodSeconds'] = 10
    })
    assert.equal(graceProblems(short, 9000).length, 1)
    assert.equal(graceProblems(manifests, 30_000).length, 3, 'every role, when SHUTDOWN_TIMEOUT_MS grows')
  })

  it('a writable root, a secret given as a literal, or a root user is reported', () => {
    const bad = broken('Deployment', 'event-pipeline-api', m => {
      const c = consumerContainer(m)
      ;(c['securityContext'] as JsonMap)['readOnlyRootFilesystem'] = false
      ;(c['env'] as JsonMap[]).push({ name: 'READ_TOKEN', value: 'literal-token-in-git' })
      delete (podSpecOf(m as Manifest)['securityContext'] as JsonMap)['runAsUser']
    })
    assert.deepEqual(securityProblems(bad), [
      'Deployment event-pipeline-api: runAsUser is not a numeric non-root user',
      'Deployment event-pipeline-api, container api: root file system not read-only',
      'Deployment event-pipeline-api, container api: READ_TOKEN is not taken from a Secret (secretKeyRef)',
    ])
    const plain = broken('ConfigMap', 'event-pipeline', m => {
      ;(m['data'] as JsonMap)['DATABASE_URL'] = 'postgres://pipeline:password@db/events'
    })
    assert.deepEqual(securityProblems(plain), ['ConfigMap event-pipeline: DATABASE_URL is a secret in plain settings'])
  })

  it('a Kustomization naming a file that does not exist, or a component that is a Kustomization, is reported', t => {
    const dir = mkdtempSync(join(tmpdir(), 'kustomize-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    mkdirSync(join(dir, 'part'))
    writeFileSync(
      join(dir, 'part/kustomization.yaml'),
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n',
    )
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - gone.yaml\ncomponents:\n  - part\n',
    )
    assert.deepEqual(readTree(dir).problems, [
      '.: resource gone.yaml does not exist',
      'part/kustomization.yaml: kind Kustomization, expected Component',
    ])
    assert.throws(() => parseDocuments('a: 1\na: 2\n', 'x.yaml'), /x\.yaml: .*unique/)
  })
})

describe('deploy/kubernetes rendered by kubectl kustomize', () => {
  const kubectl = which('kubectl')
  it('renders the example overlay into objects that pass the same checks', {
    skip:
      kubectl === undefined
        ? 'no kubectl on the PATH: brew install kubectl on macOS; on Linux the kubectl binary of https://kubernetes.io/docs/tasks/tools/ on the PATH'
        : false,
  }, () => {
    const r = spawnSync(kubectl!, ['kustomize', join(kube, 'overlays/example')], { encoding: 'utf8', timeout: 60_000 })
    assert.equal(r.status, 0, r.stderr)
    const rendered = parseDocuments(r.stdout, 'kubectl kustomize').filter(isMap) as Manifest[]
    assert.equal(rendered.length, manifests.length)
    assert.deepEqual(rendered.map(schemaProblem).filter(Boolean), [])
    assert.deepEqual(selectorProblems(rendered), [])
    assert.deepEqual(probeProblems(rendered), [])
    assert.deepEqual(securityProblems(rendered), [])
    assert.deepEqual(graceProblems(rendered, Number(defaultOf('SHUTDOWN_TIMEOUT_MS'))), [])
    for (const m of rendered) assert.equal(m.metadata['namespace'], 'event-pipeline', `${m.kind} ${nameOf(m)}`)
    const version = (JSON.parse(read('package.json')) as { version: string }).version
    for (const image of imagesOf(rendered)) assert.equal(image, `registry.example.com/event-pipeline:${version}`)
    const consumer = rendered.find(m => m.kind === 'Deployment' && nameOf(m) === 'event-pipeline-consumer')
    assert.ok(consumer && !('replicas' in (consumer['spec'] as JsonMap)), 'the autoscaler owns the replica count')
  })
})
