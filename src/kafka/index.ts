// The Kafka adapter's public door: the rest of the code asks these modules rather than building clients.
export { murmur2, partitionOf, partitionOfBytes } from './partition.ts'
