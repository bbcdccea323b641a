/**
 * The routers' nginx configurations in a real nginx: `nginx -t` on each (and on its Kubernetes
 * copy), then nginx serving it on loopback in front of stub upstreams, with the table of
 * routing.ts and every gateway endpoint sent through it as GET and POST: each request must reach
 * the intended upstream with the intended URI. The test copy of a configuration differs only in
 * its addresses (upstreams and `listen` on 127.0.0.1), its temporary and pid paths, and one worker.
 *
 * nginx comes from PATH, $NGINX_BIN, or Debian's package, downloaded once with `apt-get download
 * nginx` and unpacked with `dpkg -x` into the cache (~/.cache/trackstream/nginx); where none of
 * these can be had the tests skip, saying why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, Agent, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultCacheDir, freePort } from '@trackstream/local-stack';
import { ROUTERS, VERSION_PREFIXES, gatewayEndpointNames, routerText, type RouterConfig } from './routing';
import { mergeCompose, obj, parseYaml, readRepoFile, type Obj } from './support';

function runs(bin: string): boolean {
  const r = spawnSync(bin, ['-v'], { encoding: 'utf8' });
  return r.status === 0 && /nginx version/.test(`${r.stderr}${r.stdout}`);
}

/** An nginx binary, or why there is none. */
function obtainNginx(): { bin: string } | { skip: string } {
  const fromEnv = process.env['NGINX_BIN'];
  if (fromEnv) return runs(fromEnv) ? { bin: fromEnv } : { skip: `NGINX_BIN=${fromEnv} does not run` };
  if (runs('nginx')) return { bin: 'nginx' };
  const dir = join(defaultCacheDir(), 'nginx');
  const bin = join(dir, 'root', 'usr', 'sbin', 'nginx');
  if (existsSync(bin) && runs(bin)) return { bin };
  if (spawnSync('apt-get', ['--version']).status !== 0 || spawnSync('dpkg', ['--version']).status !== 0) {
    return { skip: 'nginx is not installed, and there is no apt-get/dpkg to fetch Debian\'s package (set NGINX_BIN to an nginx binary)' };
  }
  const debs = join(dir, 'deb');
  mkdirSync(debs, { recursive: true });
  const dl = spawnSync('apt-get', ['download', '-o', 'APT::Sandbox::User=root', 'nginx'], { cwd: debs, encoding: 'utf8', timeout: 180_000 });
  const deb = readdirSync(debs).find((f) => /^nginx_.*\.deb$/.test(f));
  if (!deb) {
    return { skip: `nginx is not installed and \`apt-get download nginx\` failed (${(dl.stderr || dl.error?.message || '').trim().split('\n').at(-1) ?? ''}); run \`apt-get update\` first, install nginx, or set NGINX_BIN` };
  }
  const x = spawnSync('dpkg', ['-x', join(debs, deb), join(dir, 'root')], { encoding: 'utf8' });
  if (x.status !== 0 || !runs(bin)) return { skip: `Debian's ${deb} did not unpack into a working nginx: ${x.stderr.trim()}` };
  return { bin };
}

const nginx = obtainNginx();
const skip = 'skip' in nginx ? `no nginx: ${nginx.skip}` : false;
if (skip) console.log(`# nginx tests skipped: ${skip}`);

/** The test copy of a configuration: same routing, loopback addresses, paths in `dir`. */
function testCopy(text: string, dir: string, listen: number, upstreamPorts: ReadonlyMap<string, number>): string {
  let out = text.replace(/^(\s*)upstream (\S+) \{ server (\S+);/gm, (_m, indent: string, name: string) => {
    const port = upstreamPorts.get(name);
    if (port === undefined) throw new Error(`no stub for upstream ${name}`);
    return `${indent}upstream ${name} { server 127.0.0.1:${port};`;
  });
  out = out.replace(/^(\s*)listen 8008;/m, `$1listen 127.0.0.1:${listen};`);
  out = out.replace(/^worker_processes auto;/m, 'worker_processes 1;');
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${join(dir, t)};`).join(' ');
  out = out.replace(/^http \{/m, `http {\n  ${temp}`);
  const user = process.getuid?.() === 0 ? 'user root root;\n' : '';
  return `${user}pid ${join(dir, 'nginx.pid')};\nerror_log ${join(dir, 'error.log')} warn;\n${out}`;
}

function nginxTest(bin: string, dir: string, conf: string): { ok: boolean; output: string } {
  const r = spawnSync(bin, ['-t', '-p', dir, '-c', conf, '-e', join(dir, 'error.log')], { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.trim() };
}

interface Answer {
  status: number;
  upstream: string;
  url: string;
  method: string;
  body: string;
}

function stub(name: string): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ upstream: name, url: req.url, method: req.method, body: Buffer.concat(chunks).toString('utf8') }));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    resolve({ server, port: typeof a === 'object' && a !== null ? a.port : 0 });
  }));
}

/** GET or POST, with a body either way (the SDK sends add_batch as a GET with a body). */
function send(agent: Agent, port: number, method: string, path: string, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, ...(JSON.parse(text) as Omit<Answer, 'status'>) });
        } catch {
          reject(new Error(`${method} ${path}: ${res.statusCode ?? 0} ${text.slice(0, 200)}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${log()}`);
    try {
      await new Promise<void>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/health', timeout: 500 }, (res) => {
          res.resume();
          resolve();
        });
        req.on('error', reject);
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.end();
      });
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`nginx did not listen on ${port}: ${String(e)} ${log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const compose = obj(parseYaml(readRepoFile('docker-compose.yml')), 'docker-compose.yml');
const gatewayEnv = (r: RouterConfig): Record<string, string> => {
  const c: Obj = r.upstreams.includes('apiserver') ? mergeCompose(compose, obj(parseYaml(readRepoFile('docker-compose.clearml.yml')), 'clearml')) : compose;
  const env = obj(obj(obj(c['services'], 'services')['gateway'], 'gateway')['environment'], 'gateway.environment');
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
};

for (const r of ROUTERS) {
  test(`nginx -t accepts ${r.file} and its copies`, { skip }, () => {
    const bin = (nginx as { bin: string }).bin;
    const dir = mkdtempSync(join(tmpdir(), 'trackstream-nginx-'));
    try {
      for (const file of [r.file, ...r.copies]) {
        const ports = new Map(r.upstreams.map((u, i) => [u, 18000 + i] as const));
        const conf = join(dir, 'nginx.conf');
        writeFileSync(conf, testCopy(readRepoFile(file), dir, 18100, ports));
        const { ok, output } = nginxTest(bin, dir, conf);
        assert.ok(ok, `${file}: ${output}`);
        assert.match(output, /syntax is ok/);
        assert.match(output, /test is successful/);
      }
      // And nginx -t does fail on a broken configuration (the check is real).
      const broken = join(dir, 'broken.conf');
      writeFileSync(broken, testCopy(routerText(r), dir, 18100, new Map(r.upstreams.map((u) => [u, 18000] as const))).replace('proxy_buffering off;', 'proxy_buffering of;'));
      assert.equal(nginxTest(bin, dir, broken).ok, false, 'a typo is refused');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`nginx serving ${r.file} sends each request, GET and POST, to the intended upstream`, { skip }, async () => {
    const bin = (nginx as { bin: string }).bin;
    const dir = mkdtempSync(join(tmpdir(), 'trackstream-nginx-'));
    const stubs = await Promise.all(r.upstreams.map(async (u) => [u, await stub(u)] as const));
    const listen = await freePort();
    const conf = join(dir, 'nginx.conf');
    writeFileSync(conf, testCopy(routerText(r), dir, listen, new Map(stubs.map(([u, s]) => [u, s.port] as const))));
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    let log = '';
    const child = spawn(bin, ['-p', dir, '-c', conf, '-e', join(dir, 'error.log'), '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    try {
      await waitForPort(listen, child, () => log);
      const names = await gatewayEndpointNames(gatewayEnv(r));
      const cases: Array<readonly [string, string, string]> = [
        ...r.cases.map(([p, u, uri]) => [p, u, uri ?? p] as const),
        ...names.flatMap((n) => VERSION_PREFIXES.map((v) => [`${v}/${n}`, n === 'auth.login' ? r.authLogin : 'gateway', `${v}/${n}`] as const)),
      ];
      for (const [path, upstream, uri] of cases) {
        for (const method of ['GET', 'POST']) {
          const body = `{"path":"${path}"}`;
          const a = await send(agent, listen, method, path, body);
          assert.equal(`${a.upstream} ${a.url}`, `${upstream} ${uri}`, `${method} ${path}`);
          assert.equal(a.method, method, `${method} ${path}: the method is passed on`);
          assert.equal(a.body, body, `${method} ${path}: the body is passed on`);
        }
      }
      // The query string survives the /api/ rewrite.
      const q = r.cases.find(([p]) => p.startsWith('/api/'));
      if (q) {
        const a = await send(agent, listen, 'GET', `${q[0]}?task=abc&x=1`, '');
        assert.equal(a.url, `${q[2] ?? q[0]}?task=abc&x=1`);
      }
    } finally {
      agent.destroy();
      child.kill('SIGTERM');
      await new Promise((res) => (child.exitCode !== null ? res(undefined) : child.once('exit', res)));
      for (const [, s] of stubs) s.server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
