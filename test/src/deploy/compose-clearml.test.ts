/**
 * docker-compose.clearml.yml on top of docker-compose.yml (merged as `docker compose -f ... -f ...`
 * does, support.ts), checked as data: ClearML's server beside Trackstream, pinned images,
 * healthchecks, data volumes, start order, one token secret for ClearML and Trackstream, and the
 * router and the web UI wired to each other. (Docker can't run here.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadNginx } from './nginx';
import { ROOT, arr, interpolate, isPinnedImage, mergeCompose, obj, parseYaml, readRepoFile, repoPath, serviceEnvVars, type Obj, assertNoDependencyCycle } from './support';

const base = obj(parseYaml(readRepoFile('docker-compose.yml')), 'docker-compose.yml');
const overlayText = readRepoFile('docker-compose.clearml.yml');
const overlay = obj(parseYaml(overlayText), 'docker-compose.clearml.yml');
const merged = mergeCompose(base, overlay);
const services = obj(merged['services'], 'services');
const service = (name: string): Obj => obj(services[name], `service ${name}`);
const env = (name: string): Obj => obj(service(name)['environment'] ?? {}, `${name}.environment`);
const CLEARML = ['apiserver', 'webserver', 'fileserver', 'async-delete', 'mongo', 'redis', 'elasticsearch'] as const;

test("the ClearML file adds ClearML's server and its stores, and only tells Trackstream's services about it", () => {
  const baseNames = Object.keys(obj(base['services'], 'base services'));
  assert.deepEqual(Object.keys(services).sort(), [...baseNames, ...CLEARML].sort());
  // The base file stays the plain Trackstream stack.
  for (const name of CLEARML) assert.equal(obj(base['services'], 'base services')[name], undefined, `${name} is not in docker-compose.yml`);
  const touched = Object.keys(obj(overlay['services'], 'overlay services')).filter((n) => baseNames.includes(n)).sort();
  assert.deepEqual(touched, ['gateway', 'query', 'router']);
  assert.deepEqual(Object.keys(obj(obj(overlay['services'], 'o')['query'], 'query')), ['environment'], 'query: only settings added');
  // The gateway also gets its lifecycle journal's volume, where CLEARML_LIFECYCLE_JOURNAL points.
  const gateway = obj(obj(overlay['services'], 'o')['gateway'], 'gateway');
  assert.deepEqual(Object.keys(gateway).sort(), ['environment', 'volumes']);
  const journal = String(env('gateway')['CLEARML_LIFECYCLE_JOURNAL']);
  const mounts = arr(gateway['volumes'], 'gateway.volumes').map((v) => String(v).split(':'));
  assert.ok(mounts.some(([volume, at]) => volume !== undefined && !volume.startsWith('.') && at !== undefined && journal.startsWith(`${at}/`)), `the journal ${journal} is on a named volume: ${JSON.stringify(mounts)}`);
  assert.ok(Object.keys(obj(merged['volumes'], 'volumes')).includes(mounts[0]?.[0] ?? ''), 'the volume is declared');
});

test('ClearML images are pinned: one allegroai/clearml tag for its servers, the stores of its own compose', () => {
  for (const [name, raw] of Object.entries(services)) {
    const image = String(obj(raw, name)['image'] ?? '');
    assert.ok(isPinnedImage(image), `${name}: image ${image} is pinned`);
  }
  const clearmlImages = new Set(['apiserver', 'webserver', 'fileserver', 'async-delete'].map((n) => String(service(n)['image'])));
  assert.equal(clearmlImages.size, 1, 'one ClearML server version');
  assert.match([...clearmlImages][0] as string, /^allegroai\/clearml:\d+\.\d+\.\d+(-\d+)?$/);
  assert.match(String(service('mongo')['image']), /^mongo:\d+\.\d+\.\d+$/);
  assert.match(String(service('redis')['image']), /^redis:\d+\.\d+\.\d+$/);
  assert.match(String(service('elasticsearch')['image']), /^elasticsearch:\d+\.\d+\.\d+$/);
  assert.deepEqual(service('apiserver')['command'], ['apiserver']);
  assert.deepEqual(service('webserver')['command'], ['webserver']);
  assert.deepEqual(service('fileserver')['command'], ['fileserver']);
  assert.deepEqual(arr(service('async-delete')['entrypoint'], 'entrypoint').slice(0, 3), ['python3', '-m', 'jobs.async_urls_delete']);
});

test('every ClearML service that can be asked has a healthcheck; start order waits for them', () => {
  for (const name of CLEARML) {
    const s = service(name);
    assert.equal(s['restart'], 'unless-stopped', name);
    const hc = obj(s['healthcheck'], `${name}.healthcheck`);
    if (name === 'async-delete') {
      // A queue consumer with no port: the container is the process.
      assert.equal(hc['disable'], true);
      continue;
    }
    const t = arr(hc['test'], `${name}.healthcheck.test`);
    assert.ok(['CMD', 'CMD-SHELL'].includes(String(t[0])) && t.length >= 2, `${name}: a real healthcheck command`);
    for (const k of ['interval', 'timeout', 'retries']) assert.ok(hc[k] !== undefined, `${name}.healthcheck.${k}`);
  }
  const probe = (name: string): string => String(arr(obj(service(name)['healthcheck'], name)['test'], name)[1]);
  assert.match(probe('apiserver'), /127\.0\.0\.1:8008\/debug\.ping/);
  assert.match(probe('elasticsearch'), /127\.0\.0\.1:9200\/_cluster\/health/);
  assert.match(probe('mongo'), /ping/);
  assert.match(probe('redis'), /redis-cli ping/);
  // The router's healthcheck asks Trackstream and ClearML through itself.
  assert.match(probe('router'), /8008\/health/);
  assert.match(probe('router'), /8008\/debug\.ping/);

  const deps = (name: string): Obj => obj(service(name)['depends_on'] ?? {}, `${name}.depends_on`);
  for (const name of Object.keys(services)) {
    for (const [dep, rawCond] of Object.entries(deps(name))) {
      assert.ok(services[dep] !== undefined, `${name} depends on unknown ${dep}`);
      const condition = obj(rawCond, `${name}.depends_on.${dep}`)['condition'];
      if (condition === 'service_healthy') assert.notEqual(obj(service(dep)['healthcheck'], dep)['disable'], true, `${name} waits for ${dep}'s health`);
      else assert.equal(condition, 'service_completed_successfully', `${name} -> ${dep}`);
    }
  }
  assert.deepEqual(Object.keys(deps('apiserver')).sort(), ['elasticsearch', 'fileserver', 'mongo', 'redis']);
  assert.deepEqual(Object.keys(deps('router')).sort(), ['apiserver', 'gateway', 'query']);
  assert.deepEqual(Object.keys(deps('webserver')), ['router']);
  assertNoDependencyCycle(Object.keys(services), (n) => Object.keys(deps(n)));
});

test("ClearML's data is on named volumes; Elasticsearch and MongoDB have ClearML's settings", () => {
  const declared = Object.keys(obj(merged['volumes'], 'volumes'));
  const mounts = new Map<string, string>();
  for (const [name, raw] of Object.entries(services)) {
    for (const v of arr(obj(raw, name)['volumes'] ?? [], `${name}.volumes`)) {
      const [source = '', target = ''] = String(v).split(':');
      if (source.startsWith('./')) assert.ok(existsSync(repoPath(source)), `${name} mounts ${source}, which exists`);
      else assert.ok(declared.includes(source), `${name}: volume ${source} is declared`);
      mounts.set(`${name}:${target}`, source);
    }
  }
  for (const want of ['mongo:/data/db', 'mongo:/data/configdb', 'redis:/data', 'elasticsearch:/usr/share/elasticsearch/data', 'fileserver:/mnt/fileserver', 'apiserver:/mnt/fileserver']) {
    assert.ok(mounts.has(want) && !String(mounts.get(want)).startsWith('./'), `persistent ${want}`);
  }
  assert.equal(mounts.get('apiserver:/mnt/fileserver'), mounts.get('fileserver:/mnt/fileserver'), "the apiserver's pre-populated artifacts are the fileserver's");
  const es = env('elasticsearch');
  assert.equal(es['discovery.type'], 'single-node');
  assert.equal(es['xpack.security.enabled'], 'false');
  assert.equal(es['bootstrap.memory_lock'], 'true');
  assert.deepEqual(obj(obj(service('elasticsearch')['ulimits'], 'ulimits')['memlock'], 'memlock'), { soft: -1, hard: -1 }, 'memory_lock needs an unlimited memlock');
  for (const name of ['apiserver', 'async-delete']) {
    const e = env(name);
    assert.equal(e['CLEARML_ELASTIC_SERVICE_HOST'], 'elasticsearch', name);
    assert.equal(e['CLEARML_MONGODB_SERVICE_HOST'], 'mongo', name);
    assert.equal(e['CLEARML_REDIS_SERVICE_HOST'], 'redis', name);
  }
});

test('one token secret: the apiserver signs with it and the Trackstream services check with it; the default is documented', () => {
  const secrets = new Map([
    ['apiserver', env('apiserver')['CLEARML__secure__auth__token_secret']],
    ['gateway', env('gateway')['CLEARML_TOKEN_SECRET']],
    ['query', env('query')['CLEARML_TOKEN_SECRET']],
  ]);
  const values = new Set([...secrets.values()].map(String));
  assert.equal(values.size, 1, `the same value everywhere: ${JSON.stringify(Object.fromEntries(secrets))}`);
  const raw = [...values][0] as string;
  const m = /^\$\{CLEARML_TOKEN_SECRET:-([^}]+)\}$/.exec(raw);
  assert.ok(m, `${raw}: the compose variable CLEARML_TOKEN_SECRET, with a default`);
  assert.equal(interpolate(raw, {}), m[1]);
  assert.equal(interpolate(raw, { CLEARML_TOKEN_SECRET: 'mine' }), 'mine');
  assert.match(overlayText, /CLEARML_TOKEN_SECRET[\s\S]*default is for trying this out only/, 'the file says the default is not for keeping data');
  assert.match(readRepoFile('README.md'), /CLEARML_TOKEN_SECRET/, 'the README tells how to set it');
  assert.equal(env('writer')['CLEARML_TOKEN_SECRET'], undefined, 'the writer answers no requests');
});

test('the router, the gateway and the web UI point at each other by compose names and ports', () => {
  const mounts = arr(service('router')['volumes'], 'router.volumes').map(String);
  assert.deepEqual(mounts, ['./deploy/docker/nginx-clearml.conf:/etc/nginx/nginx.conf:ro'], 'the ClearML routing replaces the plain one');
  assert.deepEqual(service('router')['ports'], ['8008:8008']);
  const conf = loadNginx(readRepoFile('deploy', 'docker', 'nginx-clearml.conf'));
  assert.deepEqual(conf.upstreams.get('apiserver'), ['apiserver:8008']);
  assert.equal(env('gateway')['CLEARML_API_URL'], 'http://apiserver:8008');
  assert.equal(env('webserver')['NGINX_APISERVER_ADDRESS'], 'http://router:8008', "the UI's API calls go through the router");
  assert.equal(env('webserver')['NGINX_FILESERVER_ADDRESS'], 'http://fileserver:8081');
  assert.equal(service('apiserver')['ports'], undefined, 'the apiserver is reached through the router only');
  assert.deepEqual(service('webserver')['ports'], ['8080:80']);
  assert.deepEqual(service('fileserver')['ports'], ['8081:8081']);
  const hostPorts = Object.entries(services).flatMap(([n, s]) => arr(obj(s, n)['ports'] ?? [], `${n}.ports`).map((p) => String(p).split(':')[0]));
  assert.equal(new Set(hostPorts).size, hostPorts.length, `no host port twice: ${hostPorts.join(', ')}`);
  // Trackstream's services get settings they know.
  const known = serviceEnvVars();
  for (const name of ['gateway', 'writer', 'query']) {
    for (const key of Object.keys(env(name))) assert.ok(known.has(key), `${name}: ${key} is not a setting of any service`);
  }
});

const composeCli = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
const noCompose = composeCli.status === 0 ? false : 'no `docker compose` here (the docker CLI with its compose plugin; no daemon is needed): the merge above stands in for it';

test("docker compose's own merge of the two files agrees (where the compose CLI is installed)", { skip: noCompose }, () => {
  const run = (...files: string[]): Obj => {
    const r = spawnSync('docker', ['compose', ...files.flatMap((f) => ['-f', f]), 'config', '--format', 'json'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CLEARML_TOKEN_SECRET: '' } });
    assert.equal(r.status, 0, r.stderr);
    return obj(JSON.parse(r.stdout), 'docker compose config');
  };
  run('docker-compose.yml');
  const real = obj(run('docker-compose.yml', 'docker-compose.clearml.yml')['services'], 'services');
  assert.deepEqual(Object.keys(real).sort(), Object.keys(services).sort());
  for (const [name, raw] of Object.entries(real)) {
    const s = obj(raw, name);
    const ours = service(name);
    assert.equal(s['image'], ours['image'], `${name}.image`);
    assert.deepEqual(Object.keys(obj(s['depends_on'] ?? {}, 'depends_on')).sort(), Object.keys(obj(ours['depends_on'] ?? {}, 'd')).sort(), `${name}.depends_on`);
    const realEnv = obj(s['environment'] ?? {}, `${name}.environment`);
    assert.deepEqual(Object.keys(realEnv).sort(), Object.keys(obj(ours['environment'] ?? {}, 'e')).sort(), `${name}.environment`);
    for (const [k, v] of Object.entries(obj(ours['environment'] ?? {}, 'e'))) assert.equal(realEnv[k], interpolate(String(v), {}), `${name}.${k}`);
    const targets = arr(s['volumes'] ?? [], 'volumes').map((v) => `${String(obj(v, 'volume')['source']).replace(ROOT, '.')}:${String(obj(v, 'volume')['target'])}`);
    assert.deepEqual(targets, arr(ours['volumes'] ?? [], 'v').map((v) => String(v).split(':').slice(0, 2).join(':')), `${name}.volumes`);
    const hc = obj(s['healthcheck'] ?? {}, 'healthcheck');
    const ourHc = obj(ours['healthcheck'] ?? {}, 'healthcheck');
    assert.deepEqual(hc['test'] ?? null, ourHc['test'] ?? null, `${name}.healthcheck.test`);
  }
});
