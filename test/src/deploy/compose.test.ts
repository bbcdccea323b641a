/**
 * docker-compose.yml, its Dockerfile, router, Prometheus and Grafana files, checked as data:
 * Docker can't run here, so the structure the stack relies on is asserted instead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { arr, isPinnedImage, obj, parseYaml, readRepoFile, repoPath, serviceEnvVars, type Obj, assertNoDependencyCycle } from './support';

const compose = obj(parseYaml(readRepoFile('docker-compose.yml')), 'docker-compose.yml');
const services = obj(compose['services'], 'services');
const service = (name: string): Obj => obj(services[name], `service ${name}`);
const APP_SERVICES = ['gateway', 'writer', 'query'] as const;

test('compose runs the engines, the migrate step, the three services, the router, Prometheus and Grafana', () => {
  assert.deepEqual(Object.keys(services).sort(), ['clickhouse', 'gateway', 'grafana', 'kafka', 'migrate', 'prometheus', 'query', 'router', 'writer']);
  assert.match(String(service('kafka')['image']), /^apache\/kafka:\d+\.\d+\.\d+$/);
  assert.match(String(service('clickhouse')['image']), /^clickhouse\/clickhouse-server:\d+\.\d+/);
  const kafkaEnv = obj(service('kafka')['environment'], 'kafka environment');
  assert.equal(kafkaEnv['KAFKA_PROCESS_ROLES'], 'broker,controller', 'KRaft: no ZooKeeper');
});

test('every image is pinned, and the services are built from the multi-stage non-root Dockerfile', () => {
  for (const [name, raw] of Object.entries(services)) {
    const s = obj(raw, name);
    const image = String(s['image'] ?? '');
    assert.ok(isPinnedImage(image), `${name}: image ${image} has no pinned tag`);
    if (s['build'] !== undefined) {
      const build = obj(s['build'], `${name}.build`);
      assert.equal(build['dockerfile'], 'deploy/docker/Dockerfile', name);
      assert.ok(existsSync(repoPath(String(build['context']), String(build['dockerfile']))), `${name}: Dockerfile exists`);
    }
  }
  for (const name of APP_SERVICES) {
    const build = obj(service(name)['build'], `${name}.build`);
    assert.equal(obj(build['args'], `${name}.build.args`)['SERVICE'], name, `${name} is built as itself`);
    assert.equal(service(name)['image'], `trackstream-${name}:local`);
  }
  const dockerfile = readRepoFile('deploy', 'docker', 'Dockerfile');
  const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1] as string);
  assert.ok(froms.length >= 2, 'a build stage and a runtime stage');
  for (const f of froms) assert.ok(isPinnedImage(f), `Dockerfile base ${f} is pinned`);
  const users = [...dockerfile.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
  assert.ok(users.length > 0 && users.at(-1) !== 'root' && users.at(-1) !== '0', 'the runtime stage runs as a non-root user');
  // The migrate step runs a file the writer image really contains.
  assert.deepEqual(service('migrate')['command'], ['node', 'packages/clickhouse/dist/bin/migrate.js']);
  assert.ok(existsSync(repoPath('packages', 'clickhouse', 'src', 'bin', 'migrate.ts')));
  assert.equal(service('migrate')['image'], 'trackstream-writer:local');
});

test('ports: the API on 8008, Kafka and ClickHouse for host tools, Prometheus and Grafana', () => {
  const ports = (name: string): string[] => arr(service(name)['ports'] ?? [], `${name}.ports`).map(String);
  assert.deepEqual(ports('router'), ['8008:8008']);
  assert.deepEqual(ports('kafka'), ['29092:29092']);
  assert.deepEqual(ports('clickhouse'), ['8123:8123']);
  assert.deepEqual(ports('prometheus'), ['9090:9090']);
  assert.deepEqual(ports('grafana'), ['3000:3000']);
  for (const name of APP_SERVICES) assert.equal(service(name)['ports'], undefined, `${name} is reached through the router and the compose network only`);
});

test('every long-running service has a healthcheck; the one-shot migrate step has none and no restart', () => {
  for (const [name, raw] of Object.entries(services)) {
    const s = obj(raw, name);
    const hc = obj(s['healthcheck'], `${name}.healthcheck`);
    if (name === 'migrate') {
      assert.equal(hc['disable'], true);
      assert.equal(s['restart'], 'no');
      continue;
    }
    assert.equal(s['restart'], 'unless-stopped', name);
    const testCmd = arr(hc['test'], `${name}.healthcheck.test`);
    assert.ok(['CMD', 'CMD-SHELL'].includes(String(testCmd[0])) && testCmd.length >= 2, `${name}: a real healthcheck command`);
    for (const k of ['interval', 'timeout', 'retries']) assert.ok(hc[k] !== undefined, `${name}.healthcheck.${k}`);
  }
  // The services' probe asks /health on the port they listen on.
  for (const name of APP_SERVICES) {
    const env = obj(service(name)['environment'], `${name}.environment`);
    assert.match(String(arr(obj(service(name)['healthcheck'], name)['test'], name)[3]), new RegExp(`127\\.0\\.0\\.1:${String(env['PORT'])}/health`));
  }
});

test('start order: engines healthy, then migrations completed, then writer and query; conditions everywhere', () => {
  const deps = (name: string): Obj => obj(service(name)['depends_on'] ?? {}, `${name}.depends_on`);
  for (const [name] of Object.entries(services)) {
    for (const [dep, rawCond] of Object.entries(deps(name))) {
      assert.ok(services[dep] !== undefined, `${name} depends on unknown ${dep}`);
      const condition = obj(rawCond, `${name}.depends_on.${dep}`)['condition'];
      assert.ok(condition === 'service_healthy' || condition === 'service_completed_successfully', `${name} -> ${dep}: ${String(condition)}`);
      if (condition === 'service_healthy') {
        assert.notEqual(obj(service(dep)['healthcheck'], dep)['disable'], true, `${name} waits for ${dep} to be healthy, so ${dep} needs a healthcheck`);
      } else {
        assert.equal(service(dep)['restart'], 'no', `${dep} is a one-shot step`);
      }
    }
  }
  assert.deepEqual(deps('migrate'), { clickhouse: { condition: 'service_healthy' } });
  for (const name of ['writer', 'query']) {
    assert.deepEqual(deps(name)['migrate'], { condition: 'service_completed_successfully' }, `${name} starts after the migrations`);
    assert.deepEqual(deps(name)['clickhouse'], { condition: 'service_healthy' });
  }
  assert.deepEqual(deps('writer')['kafka'], { condition: 'service_healthy' });
  assert.deepEqual(deps('gateway')['kafka'], { condition: 'service_healthy' });
  assert.deepEqual(Object.keys(deps('router')).sort(), ['gateway', 'query']);
  assertNoDependencyCycle(Object.keys(services), (n) => Object.keys(deps(n)));
});

test('named volumes keep Kafka, ClickHouse, Prometheus and Grafana data; mounted files exist', () => {
  const declared = Object.keys(obj(compose['volumes'], 'volumes')).sort();
  assert.deepEqual(declared, ['clickhouse-data', 'grafana-data', 'kafka-data', 'prometheus-data']);
  const used = new Set<string>();
  for (const [name, raw] of Object.entries(services)) {
    for (const v of arr(obj(raw, name)['volumes'] ?? [], `${name}.volumes`)) {
      const [source = '', target = ''] = String(v).split(':');
      if (source.startsWith('./')) assert.ok(existsSync(repoPath(source)), `${name} mounts ${source}, which exists`);
      else {
        assert.ok(declared.includes(source), `${name}: volume ${source} is declared`);
        used.add(`${name}:${target}`);
      }
    }
  }
  for (const want of ['kafka:/var/lib/kafka/data', 'clickhouse:/var/lib/clickhouse', 'prometheus:/prometheus', 'grafana:/var/lib/grafana']) {
    assert.ok(used.has(want), `persistent ${want}`);
  }
  const kafkaEnv = obj(service('kafka')['environment'], 'kafka environment');
  assert.equal(kafkaEnv['KAFKA_LOG_DIRS'], '/var/lib/kafka/data', "Kafka's log dirs are on the volume");
});

test('the services are given settings they know, pointing at the compose hosts', () => {
  const known = serviceEnvVars();
  for (const name of [...APP_SERVICES, 'migrate']) {
    const env = obj(service(name)['environment'], `${name}.environment`);
    for (const key of Object.keys(env)) assert.ok(known.has(key), `${name}: ${key} is not a setting of any service`);
    assert.equal(env['CLICKHOUSE_URL'], 'http://clickhouse:8123', name);
    assert.equal(env['CLICKHOUSE_DATABASE'], 'trackstream', name);
    if (name !== 'migrate') assert.equal(env['KAFKA_BROKERS'], 'kafka:9092', name);
  }
  const kafkaEnv = obj(service('kafka')['environment'], 'kafka environment');
  assert.match(String(kafkaEnv['KAFKA_ADVERTISED_LISTENERS']), /PLAINTEXT:\/\/kafka:9092/);
});

test('the router sends write endpoints to the gateway and every other path to the query service', () => {
  const conf = readRepoFile('deploy', 'docker', 'nginx.conf');
  assert.match(conf, /listen 8008;/);
  assert.match(conf, /upstream gateway \{ server gateway:8080;/);
  assert.match(conf, /upstream query \{ server query:8080;/);
  const m = /location ~ (\S+) \{\s*proxy_pass http:\/\/gateway;/.exec(conf);
  assert.ok(m, 'a regex location for the gateway');
  const toGateway = new RegExp(m[1] as string);
  for (const p of ['/events.add', '/events.add_batch', '/v2.23/events.add_batch', '/events.delete_for_task', '/auth.login', '/v2.1/auth.login/']) {
    assert.ok(toGateway.test(p), `${p} goes to the gateway`);
  }
  for (const p of ['/events.get_task_log', '/events.add_batchx', '/v2.23/events.scalar_metrics_iter_histogram', '/health', '/x/events.add']) {
    assert.ok(!toGateway.test(p), `${p} goes to the query service`);
  }
  assert.match(conf, /location \/ \{\s*proxy_pass http:\/\/query;/);
});

test('Prometheus scrapes every service and loads the alert rules; Grafana gets the datasource and dashboard', () => {
  const prom = obj(parseYaml(readRepoFile('deploy', 'prometheus', 'prometheus.yml')), 'prometheus.yml');
  const jobs = new Map(
    arr(prom['scrape_configs'], 'scrape_configs').map((raw) => {
      const j = obj(raw, 'scrape config');
      const targets = arr(j['static_configs'], 'static_configs').flatMap((sc) => arr(obj(sc, 'static config')['targets'], 'targets').map(String));
      return [String(j['job_name']), targets] as const;
    }),
  );
  for (const name of APP_SERVICES) {
    const port = String(obj(service(name)['environment'], name)['PORT']);
    assert.deepEqual(jobs.get(name), [`${name}:${port}`], `${name} is scraped on its port`);
  }
  assert.deepEqual(jobs.get('clickhouse'), ['clickhouse:9363']);
  assert.match(readRepoFile('deploy', 'clickhouse', 'prometheus.xml'), /<port>9363<\/port>/);
  const mounts = arr(service('prometheus')['volumes'], 'prometheus.volumes').map(String);
  for (const rules of arr(prom['rule_files'], 'rule_files').map(String)) {
    const mount = mounts.find((v) => v.split(':')[1] === rules);
    assert.ok(mount, `rule file ${rules} is mounted`);
    assert.ok(existsSync(repoPath(mount.split(':')[0] as string)));
  }
  assert.ok(mounts.some((v) => v.startsWith('./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml')));

  const ds = arr(obj(parseYaml(readRepoFile('deploy', 'grafana', 'provisioning', 'datasources', 'prometheus.yml')), 'datasources')['datasources'], 'datasources');
  assert.equal(ds.length, 1);
  assert.equal(obj(ds[0], 'datasource')['type'], 'prometheus');
  assert.equal(obj(ds[0], 'datasource')['url'], 'http://prometheus:9090');
  const providers = arr(obj(parseYaml(readRepoFile('deploy', 'grafana', 'provisioning', 'dashboards', 'trackstream.yml')), 'dashboards')['providers'], 'providers');
  const path = String(obj(obj(providers[0], 'provider')['options'], 'options')['path']);
  const grafanaMounts = arr(service('grafana')['volumes'], 'grafana.volumes').map(String);
  assert.ok(grafanaMounts.includes(`./deploy/grafana/dashboards:${path}:ro`), 'the provider reads the mounted dashboards');
  assert.ok(grafanaMounts.includes('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro'));
  const dashboard = obj(JSON.parse(readRepoFile('deploy', 'grafana', 'dashboards', 'trackstream.json')), 'dashboard');
  assert.equal(dashboard['uid'], 'trackstream');
});
