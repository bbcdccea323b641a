import express from 'express';
import { createApiRouter, servedEndpoints, type Auth, type RequestContext } from '@trackstream/api';
import { clickhouseFromConfig, type ClickHouseClient } from '@trackstream/clickhouse';
import { prepareValidators } from '@trackstream/event-schema';
import { createProducer, ensureTopics, kafkaFromConfig, topicNames, type Kafka } from '@trackstream/kafka';
import type { Registry } from '@trackstream/metrics';
import type { Component, Logger } from '@trackstream/runtime';
import { callerAuth, createApiserver } from './clearml/apiserver';
import { LastValuesForward } from './clearml/last-values';
import { createLifecycleBridge, type LifecycleBridge } from './clearml/lifecycle';
import { LifecycleJournal } from './clearml/journal';
import type { GatewayConfig } from './config';
import { createGatewayMetrics } from './metrics';
import { Publisher } from './publisher';
import { addEndpoint } from './routes/add';
import { addBatchEndpoint } from './routes/add-batch';
import { clearTaskLogEndpoint } from './routes/clear-task-log';
import { deleteForModelEndpoint } from './routes/delete-for-model';
import { deleteForTaskEndpoint } from './routes/delete-for-task';

export interface GatewayDeps {
  logger: Logger;
  registry: Registry;
  config: GatewayConfig;
  auth: Auth;
  /** Shared clients, when a main composes several components; made from config otherwise. */
  kafka?: Kafka;
  clickhouse?: ClickHouseClient;
  /** Pass unknown paths on (the all-in-one process mounts the query routes after these). */
  fallthrough?: boolean;
}

/** The gateway as a component, with the names of the endpoints it serves. */
export interface GatewayComponent extends Component {
  /**
   * Every endpoint this gateway answers, `auth.login` included: the routers in front of it
   * (deploy/docker/nginx*.conf) send these names to the gateway, and their tests read this list.
   */
  readonly endpoints: readonly string[];
}

/**
 * The gateway: events.add and events.add_batch onto Kafka; events.delete_for_task,
 * events.delete_for_model and events.clear_task_log as delete markers; auth.login.
 */
export function createGateway(deps: GatewayDeps): GatewayComponent {
  const { config } = deps;
  const logger = deps.logger.child({ component: 'gateway' });
  const kafka = deps.kafka ?? kafkaFromConfig(config, 'trackstream-gateway', logger);
  const clickhouse = deps.clickhouse ?? clickhouseFromConfig(config);
  const topics = topicNames(config.kafkaTopicPrefix);
  const metrics = createGatewayMetrics(deps.registry);
  const producer = createProducer(kafka, {
    logger,
    sendTimeoutMs: config.gatewayProduceTimeoutMs,
    compression: config.gatewayKafkaCompression === 'gzip' ? 'gzip' : 'none',
    ...(config.gatewayProduceLingerMs >= 0 ? { lingerMs: config.gatewayProduceLingerMs } : {}),
  });
  const publisher = new Publisher(producer, topics.events, config.gatewayMessageMaxBytes, metrics);
  // Beside a ClearML server: the lifecycle bridge (started with the journal) and the last-values forward.
  const apiserver = config.clearmlApiUrl ? createApiserver(config.clearmlApiUrl, config.clearmlApiTimeoutMs) : undefined;
  const lastValues =
    apiserver && config.clearmlLastValuesIntervalMs > 0 ? new LastValuesForward({ api: apiserver, intervalMs: config.clearmlLastValuesIntervalMs, logger, registry: deps.registry }) : undefined;
  const clearmlRoutes = express.Router();
  let bridge: LifecycleBridge | undefined;
  const onAccepted = lastValues
    ? (ctx: RequestContext, events: Parameters<LastValuesForward['note']>[2]) => lastValues.note(ctx.tenant, callerAuth(ctx.req.headers), events)
    : undefined;
  const ingestDeps = { publisher, metrics, retryAfterSec: config.gatewayRetryAfterSec, onAccepted };
  prepareValidators();

  const deleteDeps = {
    publisher,
    clickhouse,
    database: config.clickhouseDatabase,
    timeoutMs: config.gatewayDeleteTimeoutMs,
    retryAfterSec: config.gatewayRetryAfterSec,
  };
  const endpoints = [
    addEndpoint(ingestDeps),
    addBatchEndpoint(ingestDeps),
    deleteForTaskEndpoint(deleteDeps),
    deleteForModelEndpoint(deleteDeps),
    clearTaskLogEndpoint(deleteDeps),
  ];
  const routes = createApiRouter({
    service: 'gateway',
    registry: deps.registry,
    logger,
    auth: deps.auth,
    bodyLimit: config.gatewayBodyLimitBytes,
    timeoutMs: config.gatewayRequestTimeoutMs,
    fallthrough: deps.fallthrough ?? false,
    endpoints,
  });

  const all = express.Router();
  all.use(clearmlRoutes, routes);

  return {
    name: 'gateway',
    routes: all,
    endpoints: servedEndpoints({ endpoints, auth: deps.auth }).map((e) => e.name),
    async start() {
      lastValues?.start();
      // Topics are created here too so a gateway can take events before any writer ran;
      // if Kafka is down the gateway still starts and answers 503 until it is back.
      await ensureTopics(kafka, [
        { topic: topics.events, numPartitions: config.kafkaEventsPartitions, replicationFactor: config.kafkaReplicationFactor },
        { topic: topics.deadLetter, numPartitions: 1, replicationFactor: config.kafkaReplicationFactor },
      ]).catch((e: unknown) => logger.warn({ err: e }, 'could not check the Kafka topics; will produce when Kafka is back'));
      await producer.start();
      // After the producer: unfinished deletions in the journal are sent on at once.
      if (apiserver) {
        const journal = await LifecycleJournal.open(config.clearmlLifecycleJournal);
        bridge = createLifecycleBridge({
          auth: deps.auth,
          api: apiserver,
          apiUrl: config.clearmlApiUrl,
          journal,
          publisher,
          logger,
          registry: deps.registry,
          bodyLimit: config.gatewayBodyLimitBytes,
          timeoutMs: config.clearmlApiTimeoutMs,
          retryMs: config.clearmlLifecycleRetryMs,
        });
        clearmlRoutes.use(bridge.routes);
        bridge.start();
      }
    },
    async stop() {
      await lastValues?.stop();
      await bridge?.stop();
      await producer.stop();
      if (!deps.clickhouse) await clickhouse.close();
    },
    health: () => [{ name: 'kafka-producer', check: () => producer.connected }],
  };
}
