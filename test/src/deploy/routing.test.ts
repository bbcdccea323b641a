/**
 * The routers' nginx configurations, parsed and matched as nginx would (nginx.ts): every gateway
 * endpoint reaches the gateway at any version, the other events endpoints the query service, the
 * ClearML lifecycle calls the gateway and everything else ClearML's apiserver where it is behind
 * the router; the web UI's /api/ prefix is stripped. The gateway's endpoint list is the gateway's
 * own, so a new endpoint that the routers don't send to it fails here.
 * nginx.test.ts runs the same table through a real nginx where one can be had.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { directives, loadNginx, route, type NginxConfig, type Server } from './nginx';
import { LIFECYCLE_CALLS, ROUTERS, VERSION_PREFIXES, gatewayEndpointNames, routerText, type RouterConfig } from './routing';
import { mergeCompose, obj, parseYaml, readRepoFile, type Obj } from './support';

const compose = obj(parseYaml(readRepoFile('docker-compose.yml')), 'docker-compose.yml');
/** The compose deployment a router belongs to: with ClearML's apiserver behind it, docker-compose.clearml.yml on top. */
const composeOf = (r: RouterConfig): Obj =>
  r.upstreams.includes('apiserver') ? mergeCompose(compose, obj(parseYaml(readRepoFile('docker-compose.clearml.yml')), 'docker-compose.clearml.yml')) : compose;
const envOf = (c: Obj, service: string): Record<string, string> =>
  Object.fromEntries(Object.entries(obj(obj(obj(c['services'], 'services')[service], service)['environment'] ?? {}, `${service}.environment`)).map(([k, v]) => [k, String(v)]));

function load(r: RouterConfig): { conf: NginxConfig; server: Server } {
  const conf = loadNginx(routerText(r));
  assert.equal(conf.servers.length, 1, `${r.file}: one server`);
  return { conf, server: conf.servers[0] as Server };
}

function where(server: Server, path: string): string {
  const r = route(server, path);
  return r.kind === 'proxy' ? `${r.upstream} ${r.uri}` : `${r.kind}`;
}

for (const r of ROUTERS) {
  test(`${r.file}: the table of example paths reaches the intended upstreams`, () => {
    const { server } = load(r);
    for (const [path, upstream, uri] of r.cases) {
      assert.equal(where(server, path), `${upstream} ${uri ?? path}`, `${path} -> ${upstream}`);
    }
  });

  test(`${r.file}: every endpoint the gateway serves goes to it, at any version`, async () => {
    const { server } = load(r);
    // The gateway as that deployment configures it (the ClearML one has CLEARML_API_URL set).
    const names = await gatewayEndpointNames(envOf(composeOf(r), 'gateway'));
    assert.ok(names.includes('events.add_batch') && names.includes('auth.login'), `the gateway's endpoints: ${names.join(', ')}`);
    for (const name of names) {
      const upstream = name === 'auth.login' ? r.authLogin : 'gateway';
      for (const v of VERSION_PREFIXES) {
        for (const path of [`${v}/${name}`, `${v}/${name}/`]) assert.equal(where(server, path), `${upstream} ${path}`, `${name}: ${path}`);
      }
    }
    // And nothing else goes to the gateway but ClearML's lifecycle calls, which it forwards.
    const toGateway = r.cases.filter(([, u]) => u === 'gateway').map(([p, , uri]) => (uri ?? p).replace(/^\/(v[0-9.]+\/)?/, '').replace(/\/$/, ''));
    const allowed = new Set<string>([...names, ...(r.upstreams.includes('apiserver') ? LIFECYCLE_CALLS : [])]);
    for (const name of toGateway) assert.ok(allowed.has(name), `${name} is routed to the gateway but is none of its endpoints`);
  });

  test(`${r.file}: upstreams are the compose services on their ports; no method or host conditions`, () => {
    const { conf, server } = load(r);
    assert.deepEqual([...conf.upstreams.keys()].sort(), [...r.upstreams].sort());
    const c = composeOf(r);
    const services = obj(c['services'], 'services');
    for (const [name, addrs] of conf.upstreams) {
      assert.equal(addrs.length, 1, `upstream ${name}: one address (the Service / compose DNS name balances)`);
      const [host, port] = (addrs[0] as string).split(':');
      assert.equal(host, name, `upstream ${name} is the compose service and the Kubernetes Service of that name`);
      assert.ok(services[host] !== undefined, `${host} is a service of the deployment`);
      const env = envOf(c, host);
      if (env['PORT'] !== undefined) assert.equal(port, env['PORT'], `${host} listens on ${port}`);
    }
    if (r.upstreams.includes('apiserver')) {
      assert.equal(envOf(c, 'gateway')['CLEARML_API_URL'], `http://${conf.upstreams.get('apiserver')?.[0] ?? ''}`, "the gateway forwards to the router's apiserver");
    }
    assert.deepEqual(server.listen, ['8008']);
    // GET and POST alike: routing depends on the path only.
    for (const l of server.locations) {
      for (const d of l.directives) assert.ok(!['limit_except', 'if'].includes(d.name), `location ${l.pattern}: ${d.name}`);
    }
    assert.equal(directives(server.directives, 'if').length, 0);
    // The router's streaming and size settings, as the SDK needs them.
    const setting = (name: string): string => directives(server.directives, name).map((d) => d.args.join(' ')).join('|');
    assert.equal(setting('client_max_body_size'), '64m');
    assert.equal(setting('proxy_request_buffering'), 'off');
    assert.equal(setting('proxy_buffering'), 'off');
    assert.equal(setting('proxy_http_version'), '1.1');
  });

  test(`${r.file}: its copies for Kubernetes are the same file`, () => {
    for (const copy of r.copies) assert.equal(readRepoFile(copy), routerText(r), `${copy} is a copy of ${r.file}`);
  });
}

test('the matcher follows nginx: exact, then ^~ prefix, then regexes in order, then the longest prefix; rewrite last restarts', () => {
  const conf = loadNginx(`
    http { upstream a { server a:1; } upstream b { server b:1; } upstream c { server c:1; }
      server { listen 1;
        location = /x { proxy_pass http://a; }
        location ^~ /p/ { rewrite ^/p(/.*)$ $1 last; }
        location ~ ^/r1 { proxy_pass http://b; }
        location ~* ^/R { proxy_pass http://c; }
        location /r1long { proxy_pass http://c; }
        location /lit { return 204; }
        location / { proxy_pass http://c; }
      } }`);
  const s = conf.servers[0] as Server;
  assert.equal(where(s, '/x'), 'a /x');
  assert.equal(where(s, '/x/'), 'c /x/');
  assert.equal(where(s, '/r1long'), 'b /r1long', 'a regex beats a longer plain prefix');
  assert.equal(where(s, '/rx'), 'c /rx', '~* is case-insensitive');
  assert.equal(where(s, '/p/x'), 'a /x', 'rewrite ... last searches again');
  assert.equal(where(s, '/p/r1'), 'b /r1');
  assert.equal(where(s, '/lit'), 'return');
  assert.throws(() => loadNginx('http { server { location / { proxy_pass http://a; } }'), /not closed/);
  assert.throws(() => loadNginx('http { server { listen 1 } }'), /not ended/);
});
