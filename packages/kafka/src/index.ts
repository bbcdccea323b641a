export { createKafka, parseBrokers, type KafkaSettings } from './client';
export { ensureTopics, topicNames, type TopicNames, type TopicSpec } from './topics';
export { createProducer, MAX_PRODUCE_BYTES, recordBytes, ProduceUnavailableError, type MessageProducer, type OutgoingMessage, type ProducedRecord, type ProducerOptions } from './producer';
export type { Kafka } from 'kafkajs';
export { createBatchConsumer, type BatchConsumer, type BatchConsumerOptions, type BatchContext, type ConsumedMessage, type PartitionOffset } from './batch-consumer';
export { kafkaConfigSpec, kafkaFromConfig, type KafkaConfig } from './config';
