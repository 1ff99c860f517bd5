// The configuration of the project's brokers: one base file, overridden per broker by brokerProperties.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { it } from 'node:test'
import { type ClusterLayout, nodeProperties } from '../../dev/kafka/cluster.ts'
import { brokerProperties, paths } from '../../dev/kafka/local-broker.ts'

const parse = (text: string) =>
  new Map(
    text
      .split('\n')
      .filter(line => /^[A-Za-z0-9_.-]+=/.test(line))
      .map(line => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const),
  )

it('brokerProperties replaces a key in place, removes one set to undefined, appends new ones', () => {
  const base = parse(readFileSync(paths.serverProperties, 'utf8'))
  assert.deepEqual(parse(brokerProperties()), base)
  const text = brokerProperties({ 'node.id': '7', 'num.io.threads': undefined, 'min.insync.replicas': '2' })
  const props = parse(text)
  assert.equal(props.get('node.id'), '7')
  assert.equal(props.has('num.io.threads'), false)
  assert.equal(props.get('min.insync.replicas'), '2')
  assert.equal(text.match(/^node\.id=/gm)?.length, 1, 'each key once')
  assert.equal(props.size, base.size)
})

it('each node of the three-node cluster is a broker and a voter with its own ports, topics replicated 3', () => {
  const layout: ClusterLayout = {
    clusterId: 'c',
    nodes: [1, 2, 3].map(id => ({ id, port: 9191 + id, controllerPort: 9194 + id, directoryId: `d${id}` })),
  }
  const nodes = layout.nodes.map(n => parse(nodeProperties(layout, n.id)))
  nodes.forEach((props, i) => {
    assert.equal(props.get('node.id'), String(i + 1))
    assert.equal(props.get('process.roles'), 'broker,controller')
    assert.equal(props.get('listeners'), `PLAINTEXT://127.0.0.1:${9192 + i},CONTROLLER://127.0.0.1:${9195 + i}`)
    assert.equal(props.get('advertised.listeners'), `PLAINTEXT://127.0.0.1:${9192 + i}`)
    assert.equal(props.get('controller.quorum.bootstrap.servers'), '127.0.0.1:9195,127.0.0.1:9196,127.0.0.1:9197')
    for (const key of [
      'default.replication.factor',
      'offsets.topic.replication.factor',
      'transaction.state.log.replication.factor',
    ]) {
      assert.equal(props.get(key), '3', key)
    }
    assert.equal(props.get('min.insync.replicas'), '2')
    assert.equal(props.get('transaction.state.log.min.isr'), '2')
    assert.equal(props.has('controller.quorum.voters'), false, 'a dynamic quorum, formatted with --initial-controllers')
  })
})
