// The only module that builds Kafka clients: the writer (publisher and redrive), the offsets reader, the group
// consumer, the read-back of a range, topic admin and probes. The rest of the code asks these.
export {
  commitGroupOffsets,
  deleteGroups,
  ensureTopic,
  kafkaAnswers,
  keepTheLog,
  liveBrokerIds,
  type TopicRetention,
  topicIdOf,
  topicRetention,
} from './cluster-admin.ts'
export {
  committedOffsets,
  consumeTopic,
  createGroupConsumer,
  type GroupConsumer,
  type GroupConsumerOptions,
  type GroupStream,
} from './group-consumer.ts'
export {
  createOffsetsReader,
  endOffsets,
  type LogPositions,
  type OffsetsReader,
  type OffsetsReaderOptions,
} from './offsets.ts'
export { connectionOf, type KafkaConnection } from './options.ts'
export { murmur2, partitionOf, partitionOfBytes } from './partition.ts'
export { type ReadRecord, readRange } from './read-range.ts'
export { KafkaWriter, SendOverran, type WriteOptions, type WriteRecord, type Written } from './writer.ts'
