/**
 * The Kubernetes manifests of deploy/k8s, parsed and cross-checked: kinds and API versions,
 * selectors that select the pods they mean, probes, resources, autoscalers and disruption
 * budgets pointing at real Deployments, settings the services know, and the kustomizations'
 * references. (No cluster here: what `kubectl apply` would reject is asserted instead.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { defaultCacheDir } from '@trackstream/local-stack';
import { ROOT, arr, filesUnder, isPinnedImage, obj, parseYaml, parseYamlDocuments, readRepoFile, repoPath, serviceEnvVars, type Obj } from './support';

const API_VERSIONS: Record<string, string> = {
  Namespace: 'v1',
  ConfigMap: 'v1',
  Service: 'v1',
  Deployment: 'apps/v1',
  Job: 'batch/v1',
  HorizontalPodAutoscaler: 'autoscaling/v2',
  PodDisruptionBudget: 'policy/v1',
};

interface Manifest {
  file: string;
  kind: string;
  name: string;
  doc: Obj;
}

const BASE = 'deploy/k8s/base';
const kustomization = obj(parseYaml(readRepoFile(BASE, 'kustomization.yaml')), 'base kustomization');
const resources = arr(kustomization['resources'], 'resources').map(String);

function load(file: string): Manifest[] {
  return parseYamlDocuments(readRepoFile(file), file).map((raw, i) => {
    const doc = obj(raw, `${file}#${i + 1}`);
    const metadata = obj(doc['metadata'], `${file}#${i + 1}.metadata`);
    return { file, kind: String(doc['kind']), name: String(metadata['name']), doc };
  });
}

const manifests = resources.flatMap((r) => load(join(BASE, r)));
const byKind = (kind: string): Manifest[] => manifests.filter((m) => m.kind === kind);
const deployments = byKind('Deployment');
const spec = (m: Manifest): Obj => obj(m.doc['spec'], `${m.kind}/${m.name}.spec`);
const podTemplate = (m: Manifest): Obj => obj(spec(m)['template'], `${m.kind}/${m.name}.spec.template`);
const podLabels = (m: Manifest): Obj => obj(obj(podTemplate(m)['metadata'], `${m.name} template metadata`)['labels'], `${m.name} pod labels`);
const podSpec = (m: Manifest): Obj => obj(podTemplate(m)['spec'], `${m.name} pod spec`);
const containers = (m: Manifest): Obj[] => arr(podSpec(m)['containers'], `${m.name} containers`).map((c, i) => obj(c, `${m.name} container ${i}`));
const selects = (selector: Obj, labels: Obj): boolean => Object.entries(selector).every(([k, v]) => labels[k] === v);
const config = obj(byKind('ConfigMap').find((m) => m.name === 'trackstream-config')?.doc['data'], 'trackstream-config data');

test('every manifest file under deploy/k8s parses, and the base kustomization lists every base manifest', () => {
  const yamlFiles = filesUnder('deploy/k8s', ['.yaml', '.yml']);
  assert.ok(yamlFiles.length >= 10);
  for (const f of yamlFiles) assert.ok(parseYamlDocuments(readRepoFile(f), f).length >= 1, f);
  const baseManifests = yamlFiles.filter((f) => dirname(f) === BASE && !f.endsWith('kustomization.yaml'));
  assert.deepEqual([...resources].map((r) => join(BASE, r)).sort(), baseManifests, 'no manifest is left out of (or missing from) the kustomization');
  for (const gen of arr(kustomization['configMapGenerator'] ?? [], 'configMapGenerator')) {
    for (const f of arr(obj(gen, 'generator')['files'], 'files').map(String)) {
      assert.ok(existsSync(repoPath(BASE, f.split('=').at(-1) as string)), `generated from ${f}`);
    }
  }
});

test('kinds, API versions and names: three services, the router, the migration Job, config', () => {
  for (const m of manifests) {
    assert.ok(API_VERSIONS[m.kind], `${m.file}: unexpected kind ${m.kind}`);
    assert.equal(m.doc['apiVersion'], API_VERSIONS[m.kind], `${m.kind}/${m.name} apiVersion`);
    assert.match(m.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, `${m.kind}/${m.name} is a DNS label`);
  }
  const names = (kind: string): string[] => byKind(kind).map((m) => m.name).sort();
  assert.deepEqual(names('Deployment'), ['gateway', 'query', 'router', 'writer']);
  assert.deepEqual(names('Service'), ['gateway', 'query', 'router', 'writer']);
  assert.deepEqual(names('HorizontalPodAutoscaler'), ['gateway', 'query']);
  assert.deepEqual(names('PodDisruptionBudget'), ['gateway', 'query', 'router', 'writer']);
  assert.deepEqual(names('Job'), ['migrate']);
  const keys = manifests.map((m) => `${m.kind}/${m.name}`);
  assert.equal(new Set(keys).size, keys.length, 'no duplicate objects');
});

test("each Deployment's selector matches its pod labels, and no two Deployments' pods overlap", () => {
  for (const d of deployments) {
    const selector = obj(obj(spec(d)['selector'], `${d.name}.selector`)['matchLabels'], `${d.name}.matchLabels`);
    assert.ok(Object.keys(selector).length >= 2, `${d.name}: a selector specific to the component`);
    assert.ok(selects(selector, podLabels(d)), `${d.name}: selector matches the template's labels`);
    for (const other of deployments.filter((o) => o !== d)) assert.ok(!selects(selector, podLabels(other)), `${d.name}'s selector does not take ${other.name}'s pods`);
  }
});

test('the services probe /health for readiness, stay alive through dependency outages, and declare resources', () => {
  for (const d of deployments) {
    for (const c of containers(d)) {
      const ports = arr(c['ports'], `${d.name} ports`).map((p) => obj(p, 'port'));
      const portNames = new Set(ports.flatMap((p) => [String(p['name']), String(p['containerPort'])]));
      for (const probe of ['readinessProbe', 'livenessProbe']) {
        const p = obj(c[probe], `${d.name}.${probe}`);
        const port = String(obj(p['httpGet'] ?? p['tcpSocket'], `${d.name}.${probe} action`)['port']);
        assert.ok(portNames.has(port), `${d.name}.${probe} probes a declared port (${port})`);
      }
      const res = obj(c['resources'], `${d.name}.resources`);
      for (const k of ['requests', 'limits']) {
        const r = obj(res[k], `${d.name}.resources.${k}`);
        assert.ok(r['cpu'] !== undefined && r['memory'] !== undefined, `${d.name}: ${k} of cpu and memory`);
      }
      assert.ok(isPinnedImage(String(c['image'])) || imagesPinnedByKustomize(String(c['image'])), `${d.name}: image ${String(c['image'])} is pinned`);
    }
  }
  for (const name of ['gateway', 'writer', 'query']) {
    const d = deployments.find((m) => m.name === name) as Manifest;
    const [c] = containers(d);
    assert.ok(c);
    for (const probe of ['startupProbe', 'readinessProbe']) {
      assert.deepEqual(obj(obj(c[probe], `${name}.${probe}`)['httpGet'], probe), { path: '/health', port: 'http' }, `${name}.${probe}`);
    }
    // /health fails while Kafka or ClickHouse is down: liveness must not, or every pod restarts.
    assert.deepEqual(obj(obj(c['livenessProbe'], `${name}.livenessProbe`)['httpGet'], 'liveness'), { path: '/metrics', port: 'http' });
    assert.equal(obj(d.doc['spec'], 'spec')['replicas'] === undefined, name !== 'writer', `${name}: replicas set only where no autoscaler owns them`);
    const env = new Map(arr(c['env'] ?? [], 'env').map((e) => [String(obj(e, 'env')['name']), String(obj(e, 'env')['value'])]));
    const heap = Number(/--max-old-space-size=(\d+)/.exec(env.get('NODE_OPTIONS') ?? '')?.[1]);
    const limit = mebibytes(String(obj(obj(c['resources'], 'resources')['limits'], 'limits')['memory']));
    assert.ok(heap > 0 && heap < limit, `${name}: the V8 heap (${heap} MiB) fits under the memory limit (${limit} MiB)`);
    assert.equal(obj(podSpec(d)['securityContext'], `${name} pod securityContext`)['runAsNonRoot'], true);
    assert.equal(obj(podTemplate(d)['metadata'], 'metadata')['annotations'] !== undefined, true, `${name} announces its /metrics`);
  }
});

test('Services select the pods of their Deployment and target a declared port', () => {
  for (const s of byKind('Service')) {
    const selector = obj(spec(s)['selector'], `${s.name}.selector`);
    const targets = deployments.filter((d) => selects(selector, podLabels(d)));
    assert.deepEqual(targets.map((d) => d.name), [s.name], `Service ${s.name} selects exactly its Deployment's pods`);
    const declared = containers(targets[0] as Manifest).flatMap((c) => arr(c['ports'], 'ports').map((p) => obj(p, 'port')));
    for (const port of arr(spec(s)['ports'], `${s.name}.ports`).map((p) => obj(p, 'service port'))) {
      const target = port['targetPort'];
      assert.ok(declared.some((p) => p['name'] === target || p['containerPort'] === target), `Service ${s.name}: targetPort ${String(target)} is declared`);
    }
  }
  // The router's nginx.conf names the gateway and query Services and their port.
  const gateway = byKind('Service').find((s) => s.name === 'gateway') as Manifest;
  assert.equal(obj(arr(spec(gateway)['ports'], 'ports')[0], 'port')['port'], 8080);
});

test('autoscalers scale existing Deployments that request CPU; the writer has none and fits its partitions', () => {
  for (const h of byKind('HorizontalPodAutoscaler')) {
    const ref = obj(spec(h)['scaleTargetRef'], `${h.name}.scaleTargetRef`);
    assert.equal(ref['kind'], 'Deployment');
    assert.equal(ref['apiVersion'], 'apps/v1');
    const target = deployments.find((d) => d.name === ref['name']);
    assert.ok(target, `HPA ${h.name} targets an existing Deployment`);
    const min = Number(spec(h)['minReplicas']);
    const max = Number(spec(h)['maxReplicas']);
    assert.ok(min >= 2 && max > min, `${h.name}: ${min}..${max} replicas, never one alone`);
    const metrics = arr(spec(h)['metrics'], 'metrics').map((m) => obj(m, 'metric'));
    assert.ok(metrics.length > 0);
    for (const m of metrics.filter((x) => x['type'] === 'Resource')) {
      const resource = String(obj(m['resource'], 'resource')['name']);
      for (const c of containers(target)) assert.ok(obj(obj(c['resources'], 'resources')['requests'], 'requests')[resource] !== undefined, `${h.name}: utilization needs ${resource} requests`);
    }
  }
  assert.ok(!byKind('HorizontalPodAutoscaler').some((h) => obj(spec(h)['scaleTargetRef'], 'ref')['name'] === 'writer'));
  const writer = deployments.find((d) => d.name === 'writer') as Manifest;
  const partitions = Number(config['KAFKA_EVENTS_PARTITIONS']);
  const replicas = Number(spec(writer)['replicas']);
  assert.ok(replicas >= 2 && replicas <= partitions, `writer replicas ${replicas} within 2..${partitions} partitions`);
  assert.equal(partitions % replicas, 0, 'partitions spread evenly over the writers');
});

test('every Deployment has a PodDisruptionBudget selecting exactly its pods, that lets a drain proceed', () => {
  for (const d of deployments) {
    const pdbs = byKind('PodDisruptionBudget').filter((p) => selects(obj(obj(spec(p)['selector'], 'selector')['matchLabels'], 'matchLabels'), podLabels(d)));
    assert.equal(pdbs.length, 1, `${d.name}: one PDB`);
    const pdb = spec(pdbs[0] as Manifest);
    assert.ok(pdb['maxUnavailable'] !== undefined || pdb['minAvailable'] !== undefined);
    if (pdb['maxUnavailable'] !== undefined) assert.ok(Number(pdb['maxUnavailable']) >= 1, `${d.name}: evictions possible`);
  }
  for (const p of byKind('PodDisruptionBudget')) {
    const sel = obj(obj(spec(p)['selector'], 'selector')['matchLabels'], 'matchLabels');
    assert.equal(deployments.filter((d) => selects(sel, podLabels(d))).length, 1, `PDB ${p.name} matches one Deployment`);
  }
});

test('pods and the migration Job take their settings from the ConfigMap, with names the services know', () => {
  const known = serviceEnvVars();
  for (const key of Object.keys(config)) assert.ok(known.has(key), `ConfigMap key ${key} is a setting of a service`);
  for (const m of [...deployments.filter((d) => d.name !== 'router'), ...byKind('Job')]) {
    for (const c of containers(m)) {
      const refs = arr(c['envFrom'], `${m.name}.envFrom`).map((e) => obj(e, 'envFrom'));
      const cm = refs.find((r) => r['configMapRef'] !== undefined);
      assert.equal(obj(cm?.['configMapRef'], 'configMapRef')['name'], 'trackstream-config', m.name);
      const secret = refs.find((r) => r['secretRef'] !== undefined);
      assert.equal(obj(secret?.['secretRef'], 'secretRef')['optional'], true, `${m.name}: the Secret is optional`);
    }
  }
  assert.equal(config['PORT'], '8080');
  for (const d of deployments.filter((x) => x.name !== 'router')) {
    assert.ok(containers(d).every((c) => arr(c['ports'], 'ports').some((p) => obj(p, 'port')['containerPort'] === 8080)), `${d.name} listens on PORT`);
  }
  const job = byKind('Job')[0] as Manifest;
  const [c] = containers(job);
  assert.deepEqual(c?.['command'], ['node', 'packages/clickhouse/dist/bin/migrate.js']);
  assert.equal(c?.['image'], 'trackstream-writer');
  assert.ok(['OnFailure', 'Never'].includes(String(podSpec(job)['restartPolicy'])));
});

test("the router uses docker-compose's routing, mounted from the generated ConfigMap", () => {
  assert.equal(readRepoFile(BASE, 'router', 'nginx.conf'), readRepoFile('deploy', 'docker', 'nginx.conf'), 'one routing for both deployments');
  const router = deployments.find((d) => d.name === 'router') as Manifest;
  const volumes = arr(podSpec(router)['volumes'], 'volumes').map((v) => obj(v, 'volume'));
  const generated = arr(kustomization['configMapGenerator'], 'configMapGenerator').map((g) => String(obj(g, 'generator')['name']));
  assert.ok(volumes.some((v) => generated.includes(String(obj(v['configMap'] ?? {}, 'configMap')['name']))));
});

test('the cluster overlay patches objects that exist and sets a cluster, partitions and writers that fit', () => {
  const dir = 'deploy/k8s/overlays/cluster';
  const k = obj(parseYaml(readRepoFile(dir, 'kustomization.yaml')), 'overlay kustomization');
  for (const r of arr(k['resources'], 'resources').map(String)) assert.ok(existsSync(repoPath(dir, r, 'kustomization.yaml')), `resource ${r}`);
  const patched = new Map<string, Obj>();
  for (const p of arr(k['patches'], 'patches')) {
    const file = String(obj(p, 'patch')['path']);
    for (const m of load(join(dir, file))) {
      assert.ok(manifests.some((b) => b.kind === m.kind && b.name === m.name), `${file} patches ${m.kind}/${m.name}, which exists`);
      patched.set(`${m.kind}/${m.name}`, m.doc);
    }
  }
  const overlayConfig = { ...config, ...obj(obj(patched.get('ConfigMap/trackstream-config'), 'config patch')['data'], 'data') };
  assert.notEqual(overlayConfig['CLICKHOUSE_CLUSTER'], '');
  for (const key of Object.keys(overlayConfig)) assert.ok(serviceEnvVars().has(key), key);
  const writers = Number(obj(obj(patched.get('Deployment/writer'), 'writer patch')['spec'], 'spec')['replicas']);
  assert.ok(writers <= Number(overlayConfig['KAFKA_EVENTS_PARTITIONS']));
  const used = new Set(deployments.concat(byKind('Job')).flatMap((d) => containers(d).map((c) => String(c['image']))));
  for (const img of arr(k['images'], 'images').map((i) => obj(i, 'image'))) {
    assert.ok(used.has(String(img['name'])), `image override ${String(img['name'])} names an image in use`);
    assert.ok(img['newTag'] !== undefined && img['newTag'] !== 'latest');
  }
});

function imagesPinnedByKustomize(name: string): boolean {
  return arr(kustomization['images'] ?? [], 'images').some((i) => {
    const img = obj(i, 'image');
    return img['name'] === name && typeof img['newTag'] === 'string' && img['newTag'] !== 'latest';
  });
}

function mebibytes(q: string): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(q);
  if (!m) throw new Error(`unexpected memory quantity ${q}`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}

test('the clearml overlay: the ClearML routing for the router, the apiserver by its compose name, an API Ingress to the router', () => {
  const dir = 'deploy/k8s/overlays/clearml';
  const k = obj(parseYaml(readRepoFile(dir, 'kustomization.yaml')), 'clearml kustomization');
  assert.equal(k['namespace'], kustomization['namespace'], "the overlay's own objects go into Trackstream's namespace");
  const resources = arr(k['resources'], 'resources').map(String);
  assert.ok(resources.includes('../../base'));
  const own = resources.filter((r) => r !== '../../base').flatMap((r) => load(join(dir, r)));
  assert.deepEqual(own.map((m) => `${m.kind}/${m.name}`).sort(), ['Ingress/clearml-api', 'Service/apiserver']);
  for (const m of own) assert.equal(m.doc['apiVersion'], { Service: 'v1', Ingress: 'networking.k8s.io/v1' }[m.kind], `${m.kind}/${m.name}`);
  // The router's nginx.conf is replaced by the ClearML one (routing.test.ts keeps the copy equal).
  const [gen, ...more] = arr(k['configMapGenerator'], 'configMapGenerator').map((g) => obj(g, 'generator'));
  assert.equal(more.length, 0);
  assert.equal(gen?.['name'], 'router-nginx');
  assert.equal(gen?.['behavior'], 'replace');
  assert.deepEqual(gen?.['files'], ['nginx.conf=router/nginx.conf']);
  assert.equal(readRepoFile(dir, 'router', 'nginx.conf'), readRepoFile('deploy', 'docker', 'nginx-clearml.conf'));
  // ClearML's apiserver as `apiserver:8008`, the router's upstream and the gateway's CLEARML_API_URL.
  const svc = own.find((m) => m.kind === 'Service') as Manifest;
  assert.equal(spec(svc)['type'], 'ExternalName');
  assert.match(String(spec(svc)['externalName']), /^[a-z0-9-]+-apiserver\.[a-z0-9-]+\.svc\.cluster\.local$/, "the chart's <fullname>-apiserver Service");
  assert.deepEqual(arr(spec(svc)['ports'], 'ports').map((p) => obj(p, 'port')['port']), [8008]);
  assert.match(readRepoFile('deploy', 'docker', 'nginx-clearml.conf'), /upstream apiserver \{ server apiserver:8008;/);
  const patches = arr(k['patches'], 'patches').map((p) => String(obj(p, 'patch')['path']));
  assert.deepEqual(patches, ['config.yaml', 'gateway-journal.yaml']);
  const [cm] = load(join(dir, 'config.yaml'));
  assert.equal(cm?.kind, 'ConfigMap');
  assert.equal(cm?.name, 'trackstream-config');
  const journal = '/var/lib/trackstream/clearml/lifecycle.jsonl';
  assert.deepEqual(obj(cm?.doc['data'], 'data'), { CLEARML_API_URL: `http://${svc.name}:8008`, CLEARML_LIFECYCLE_JOURNAL: journal });
  // The journal's folder is a volume of the gateway (its root filesystem is read-only).
  const [gw] = load(join(dir, 'gateway-journal.yaml'));
  assert.equal(gw?.name, 'gateway');
  const journalText = readRepoFile('deploy', 'k8s', 'overlays', 'clearml', 'gateway-journal.yaml');
  assert.match(journalText, /mountPath: \/var\/lib\/trackstream\/clearml\n/);
  // The Ingress sends the API host to the router's Service port, with a body limit the SDK's batches fit.
  const ing = own.find((m) => m.kind === 'Ingress') as Manifest;
  const router = byKind('Service').find((s) => s.name === 'router') as Manifest;
  const routerPort = obj(arr(spec(router)['ports'], 'ports')[0], 'port')['port'];
  const rules = arr(spec(ing)['rules'], 'rules').map((r) => obj(r, 'rule'));
  assert.equal(rules.length, 1);
  const paths = arr(obj(rules[0]?.['http'], 'http')['paths'], 'paths').map((p) => obj(p, 'path'));
  assert.deepEqual(paths.map((p) => [p['path'], p['pathType'], obj(obj(p['backend'], 'backend')['service'], 'service')]), [['/', 'Prefix', { name: 'router', port: { number: routerPort } }]]);
  assert.equal(obj(obj(ing.doc['metadata'], 'metadata')['annotations'], 'annotations')['nginx.ingress.kubernetes.io/proxy-body-size'], '64m');
  // The ClearML chart's values: its API Ingress off, the apiserver internal, the UI's API calls through the router.
  const values = obj(parseYaml(readRepoFile(dir, 'clearml-values.yaml')), 'clearml-values.yaml');
  const apiserver = obj(values['apiserver'], 'apiserver');
  assert.equal(obj(apiserver['ingress'], 'ingress')['enabled'], false);
  assert.equal(obj(apiserver['service'], 'service')['type'], 'ClusterIP');
  const extraEnvs = arr(obj(values['webserver'], 'webserver')['extraEnvs'], 'extraEnvs').map((e) => obj(e, 'env'));
  assert.deepEqual(extraEnvs, [{ name: 'NGINX_APISERVER_ADDRESS', value: `http://router.${String(kustomization['namespace'])}.svc.cluster.local:${String(routerPort)}` }]);
  assert.equal(obj(values['clearml'], 'clearml')['clientConfigurationApiUrl'], `https://${String(rules[0]?.['host'])}`, 'the UI shows the router host as api_server');
});

/** kustomize from $KUSTOMIZE_BIN, PATH or the cache (GOBIN=~/.cache/trackstream/kustomize/bin go install sigs.k8s.io/kustomize/kustomize/v5@v5.7.1). */
const kustomize = [process.env['KUSTOMIZE_BIN'], 'kustomize', join(defaultCacheDir(), 'kustomize', 'bin', 'kustomize')]
  .filter((b): b is string => b !== undefined && b !== '')
  .find((b) => spawnSync(b, ['version'], { encoding: 'utf8' }).status === 0);

test('kustomize builds the base and every overlay; the clearml build mounts the ClearML routing', { skip: kustomize ? false : 'no kustomize here (KUSTOMIZE_BIN, PATH, or the cache): the checks above stand in for it' }, () => {
  const build = (dir: string): Manifest[] => {
    const r = spawnSync(kustomize as string, ['build', dir], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, `kustomize build ${dir}: ${r.stderr}`);
    return parseYamlDocuments(r.stdout, dir).map((raw) => {
      const doc = obj(raw, dir);
      return { file: dir, kind: String(doc['kind']), name: String(obj(doc['metadata'], 'metadata')['name']), doc };
    });
  };
  build(BASE);
  build('deploy/k8s/overlays/cluster');
  const out = build('deploy/k8s/overlays/clearml');
  for (const m of out) assert.equal(obj(m.doc['metadata'], 'metadata')['namespace'] ?? (m.kind === 'Namespace' ? 'trackstream' : undefined), 'trackstream', `${m.kind}/${m.name}`);
  const router = out.find((m) => m.kind === 'Deployment' && m.name === 'router') as Manifest;
  const cmName = String(obj(arr(podSpec(router)['volumes'], 'volumes').map((v) => obj(v, 'volume'))[0]?.['configMap'], 'configMap')['name']);
  const cm = out.find((m) => m.kind === 'ConfigMap' && m.name === cmName);
  assert.ok(cm, `the router mounts ConfigMap ${cmName}, which the build has`);
  assert.equal(obj(cm.doc['data'], 'data')['nginx.conf'], readRepoFile('deploy', 'docker', 'nginx-clearml.conf'));
  assert.equal(out.filter((m) => m.kind === 'ConfigMap' && m.name.startsWith('router-nginx')).length, 1, 'the plain routing is replaced, not kept beside');
  const config = out.find((m) => m.kind === 'ConfigMap' && m.name === 'trackstream-config') as Manifest;
  assert.equal(obj(config.doc['data'], 'data')['CLEARML_API_URL'], 'http://apiserver:8008');
  assert.equal(obj(config.doc['data'], 'data')['PORT'], '8080', "the base's settings are kept");
});
