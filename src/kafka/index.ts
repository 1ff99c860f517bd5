// The Kafka adapter's public door: the rest of the code asks these modules rather than building clients.
export { createOffsetsReader, endOffsets, type OffsetsReader, type OffsetsReaderOptions } from './offsets.ts'
export { connectionOf, type KafkaConnection } from './options.ts'
export { murmur2, partitionOf, partitionOfBytes } from './partition.ts'
export { type ReadRecord, readRange } from './read-range.ts'
