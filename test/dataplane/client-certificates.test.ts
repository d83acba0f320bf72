// HTTPS listeners against real TLS clients: client certificate validation
// (Gateway spec.tls.frontend), misdirected requests (421) on ports shared by
// several listeners, and certificates replaced under live connections.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { connect as h2connect } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { connect, type TLSSocket } from 'node:tls';
import { generate } from 'selfsigned';
import { DataPlane } from '../../src/dataplane/index.js';
import type { IRCertificate, IRClientValidation, IRServer, IRVirtualHost } from '../../src/ir/types.js';
import { silentLogger } from '../../src/util/log.js';
import { config, direct, route, sendH2 } from './helpers.js';

interface Pair { certPem: string; keyPem: string }

async function ca(cn: string): Promise<Pair> {
  const pems = await generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true, digitalSignature: true }],
  });
  return { certPem: pems.cert, keyPem: pems.private };
}

async function leaf(cn: string, usage: 'serverAuth' | 'clientAuth', issuer?: Pair): Promise<Pair> {
  const pems = await generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'extKeyUsage', [usage]: true },
      ...(usage === 'serverAuth' ? [{ name: 'subjectAltName' as const, altNames: [{ type: 2 as const, value: cn }] }] : []),
    ],
    ...(issuer ? { ca: { cert: issuer.certPem, key: issuer.keyPem } } : {}),
  });
  return { certPem: pems.cert, keyPem: pems.private };
}

function certificate(hostname: string, pair: Pair): IRCertificate {
  return { hostname, ...pair };
}

function httpsServer(certificates: IRCertificate[], virtualHosts: IRVirtualHost[], extra: Partial<IRServer['tls']> = {}): IRServer {
  return {
    id: 'https', address: '127.0.0.1', port: 0, protocol: 'HTTPS', owner: 'default/gw',
    tls: { certificates, ...extra }, virtualHosts,
  };
}

interface Attempt {
  /** SNI; none when absent. */
  sni?: string;
  host: string;
  client?: Pair;
  /** HTTP/1.1 with a repeated field, which the fast path hands to node:http. */
  slow?: boolean;
}

interface Outcome { status: number; body: string; cn?: string; error?: string }

/** One HTTP/1.1 request on a fresh TLS connection; a connection refused or closed at any point is an outcome too. */
function h1(port: number, a: Attempt): Promise<Outcome> {
  return new Promise((resolve) => {
    const s = connect({
      host: '127.0.0.1', port, servername: a.sni, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'],
      ...(a.client ? { cert: a.client.certPem, key: a.client.keyPem } : {}),
    });
    let raw = '';
    let cn: string | undefined;
    s.on('secureConnect', () => {
      cn = s.getPeerCertificate().subject?.CN as string | undefined;
      const repeated = a.slow ? 'X-Repeated: 1\r\nX-Repeated: 2\r\n' : '';
      s.write(`GET / HTTP/1.1\r\nHost: ${a.host}\r\n${repeated}Connection: close\r\n\r\n`);
    });
    s.setEncoding('utf8');
    s.on('data', (d: string) => (raw += d));
    const done = (error?: string) => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(raw);
      const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
      resolve(m ? { status: Number(m[1]), body: /chunked/i.test(raw) ? unchunk(body) : body, cn } : { status: 0, body: '', cn, error: error ?? 'closed without a response' });
    };
    s.on('end', () => done());
    s.on('error', (err) => { s.destroy(); done(err.message); });
  });
}

function unchunk(body: string): string {
  let out = '';
  for (let rest = body; ;) {
    const eol = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, eol), 16);
    if (!size) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 4 + size);
  }
}

/** One HTTP/2 request (ALPN h2) on a fresh connection. */
async function h2(port: number, a: Attempt): Promise<Outcome> {
  const session = h2connect(`https://127.0.0.1:${port}`, {
    servername: a.sni, rejectUnauthorized: false,
    ...(a.client ? { cert: a.client.certPem, key: a.client.keyPem } : {}),
  });
  session.on('error', () => undefined);
  try {
    const r = await sendH2(session, '/', { authority: a.host });
    return { status: r.status, body: r.body };
  } catch (err) {
    return { status: 0, body: '', error: (err as Error).message };
  } finally {
    session.destroy();
  }
}

const CLIENTS = { 'HTTP/1.1': h1, 'HTTP/1.1 via node:http': (port: number, a: Attempt) => h1(port, { ...a, slow: true }), 'HTTP/2': h2 };

/** What openssl s_client prints about the server's certificate request, which no Node client exposes. */
function certificateRequest(port: number, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', servername], { timeout: 10_000 }, (err, stdout) => {
      if (err && !stdout) reject(err);
      // It lists the signature algorithms of a CertificateRequest only when it got one.
      else if (!/^Requested Signature Algorithms/m.test(stdout)) resolve('not requested');
      else resolve(/Acceptable client certificate CA names\n(.*)/.exec(stdout)?.[1] ?? 'no CA names');
    });
    child.stdin!.end();
  });
}

describe('client certificate validation', () => {
  const dp = new DataPlane({ logger: silentLogger });
  let port = 0;
  let server: Pair;
  let trusted: Pair;
  let other: Pair;
  let validClient: Pair;
  let strangerClient: Pair;
  const vhosts = [{ hostname: '*', routes: [route('any', {}, direct('served'))] }];
  const apply = async (clientValidation: IRClientValidation | undefined) => {
    const s = httpsServer([certificate('*', server)], vhosts, clientValidation ? { clientValidation } : {});
    assert.deepEqual((await dp.apply(config([s]))).failures, []);
  };

  before(async () => {
    [trusted, other, server] = await Promise.all([ca('trusted-ca'), ca('other-ca'), leaf('gw.example.com', 'serverAuth')]);
    [validClient, strangerClient] = await Promise.all([leaf('alice', 'clientAuth', trusted), leaf('mallory', 'clientAuth', other)]);
    await apply({ caPem: trusted.certPem, mode: 'AllowValidOnly' });
    port = dp.boundPort('https')!;
  });
  after(() => dp.shutdown(1000));

  for (const [name, send] of Object.entries(CLIENTS)) {
    it(`AllowValidOnly serves a client certificate from the CA, and nothing else (${name})`, async () => {
      await apply({ caPem: trusted.certPem, mode: 'AllowValidOnly' });
      assert.equal((await send(port, { sni: 'gw.example.com', host: 'gw.example.com', client: validClient })).body, 'served');
      for (const client of [undefined, strangerClient]) {
        const r = await send(port, { sni: 'gw.example.com', host: 'gw.example.com', client });
        assert.equal(r.status, 0, `${client ? 'a certificate from another CA' : 'no certificate'}: ${JSON.stringify(r)}`);
      }
    });

    it(`AllowInsecureFallback asks for a certificate but serves any client (${name})`, async () => {
      await apply({ caPem: trusted.certPem, mode: 'AllowInsecureFallback' });
      for (const client of [validClient, strangerClient, undefined]) {
        assert.equal((await send(port, { sni: 'gw.example.com', host: 'gw.example.com', client })).body, 'served');
      }
    });
  }

  it('names the trusted CA in its certificate request, and asks for none without validation', async () => {
    await apply({ caPem: trusted.certPem, mode: 'AllowInsecureFallback' });
    assert.match(await certificateRequest(port, 'gw.example.com'), /CN ?= ?trusted-ca/);
    await apply({ caPem: trusted.certPem, mode: 'AllowValidOnly' });
    assert.match(await certificateRequest(port, 'gw.example.com'), /CN ?= ?trusted-ca/);
    await apply(undefined);
    assert.equal(await certificateRequest(port, 'gw.example.com'), 'not requested');
    assert.equal((await h1(port, { sni: 'gw.example.com', host: 'gw.example.com' })).body, 'served');
  });

  it('keeps established connections as they were handshaken when validation changes', async () => {
    await apply({ caPem: trusted.certPem, mode: 'AllowValidOnly' });
    const session = h2connect(`https://127.0.0.1:${port}`, { servername: 'gw.example.com', rejectUnauthorized: false, cert: validClient.certPem, key: validClient.keyPem });
    session.on('error', () => undefined);
    try {
      assert.equal((await sendH2(session, '/', { authority: 'gw.example.com' })).body, 'served');
      await apply({ caPem: other.certPem, mode: 'AllowValidOnly' });
      assert.equal((await sendH2(session, '/', { authority: 'gw.example.com' })).body, 'served');
      assert.equal((await h1(port, { sni: 'gw.example.com', host: 'gw.example.com', client: validClient })).status, 0);
      assert.equal((await h1(port, { sni: 'gw.example.com', host: 'gw.example.com', client: strangerClient })).body, 'served');
    } finally {
      session.destroy();
    }
  });
});

describe('misdirected requests', () => {
  const dp = new DataPlane({ logger: silentLogger });
  let port = 0;

  before(async () => {
    // The listeners of conformance HTTPRouteHTTPSListenerDetectMisdirectedRequests: *, second-example.org,
    // *.wildcard.org and fourth-example.wildcard.org on one port; the route of `*` takes example.org.
    const server = await leaf('gw.example.com', 'serverAuth');
    const listeners = ['second-example.org', 'fourth-example.wildcard.org', '*.wildcard.org', '*'];
    const vhosts: IRVirtualHost[] = [
      { hostname: 'example.org', routes: [route('v1', {}, direct('v1'))] },
      { hostname: 'second-example.org', routes: [route('v2', {}, direct('v2'))] },
      { hostname: 'fourth-example.wildcard.org', routes: [route('v4', {}, direct('v4'))] },
      { hostname: '*.wildcard.org', routes: [route('v3', {}, direct('v3'))] },
      { hostname: '*', routes: [] },
    ];
    const s = httpsServer(listeners.map((h) => certificate(h, server)), vhosts, { listenerHostnames: listeners });
    assert.deepEqual((await dp.apply(config([s]))).failures, []);
    port = dp.boundPort('https')!;
  });
  after(() => dp.shutdown(1000));

  const cases: [sni: string | undefined, host: string, expected: number | string][] = [
    ['example.org', 'example.org', 'v1'],
    ['example.org', 'second-example.org', 421],
    ['example.org', 'unknown-example.org', 404],
    ['second-example.org', 'second-example.org', 'v2'],
    ['second-example.org', 'example.org', 421],
    ['second-example.org', 'unknown-example.org', 421],
    ['third-example.wildcard.org', 'third-example.wildcard.org', 'v3'],
    ['third-example.wildcard.org', 'fith-example.wildcard.org', 'v3'],
    ['third-example.wildcard.org', 'fourth-example.wildcard.org', 421],
    ['third-example.wildcard.org', 'second-example.org', 421],
    ['third-example.wildcard.org', 'unknown-example.org', 421],
    ['fourth-example.wildcard.org', 'fourth-example.wildcard.org', 'v4'],
    ['fourth-example.wildcard.org', 'fith-example.wildcard.org', 421],
    ['unknown-example.org', 'example.org', 'v1'],
    ['unknown-example.org', 'unknown-example.org', 404],
    // Names compare case-insensitively, and a port in Host is not part of it.
    ['SECOND-EXAMPLE.ORG', 'second-example.org:443', 'v2'],
    ['second-example.org', 'EXAMPLE.ORG', 421],
    // Without SNI the connection chose no listener: Host alone routes.
    [undefined, 'second-example.org', 'v2'],
    [undefined, 'example.org', 'v1'],
  ];
  for (const [name, send] of Object.entries(CLIENTS)) {
    it(`answers 421 when Host belongs to another listener than the server name (${name})`, async () => {
      for (const [sni, host, expected] of cases) {
        const r = await send(port, { sni, host });
        const seen = r.status === 200 ? r.body : r.status;
        assert.equal(seen, expected, `SNI ${sni ?? '(none)'}, Host ${host}: ${JSON.stringify(r)}`);
      }
    });
  }
});

describe('certificate rotation', () => {
  const dp = new DataPlane({ logger: silentLogger });
  let port = 0;
  let a1: Pair;
  let a2: Pair;
  let any: Pair;
  const vhosts = [
    { hostname: 'a.example.com', routes: [route('a', {}, direct('A'))] },
    { hostname: '*', routes: [route('any', {}, direct('ANY'))] },
  ];
  const apply = async (a: Pair) => {
    const s = httpsServer([certificate('a.example.com', a), certificate('*', any)], vhosts, { listenerHostnames: ['a.example.com', '*'] });
    assert.deepEqual((await dp.apply(config([s]))).failures, []);
  };
  const broken = () => ({ certPem: a2.certPem, keyPem: any.keyPem });

  before(async () => {
    [a1, a2, any] = await Promise.all([leaf('a.example.com', 'serverAuth'), leaf('a.example.com', 'serverAuth'), leaf('any.example.com', 'serverAuth')]);
  });
  after(() => dp.shutdown(1000));

  const serial = (p: Pair) => new X509Certificate(p.certPem).serialNumber;

  it('refuses a listener whose certificate never loaded, and answers 421 to its hosts on other connections', async () => {
    await apply(broken());
    port = dp.boundPort('https')!;
    assert.equal((await h1(port, { sni: 'a.example.com', host: 'a.example.com' })).status, 0);
    assert.equal((await h1(port, { sni: 'b.example.com', host: 'a.example.com' })).status, 421);
    assert.equal((await h1(port, { host: 'a.example.com' })).status, 421);
    assert.equal((await h1(port, { host: 'b.example.com' })).body, 'ANY');
    assert.equal((await h2(port, { host: 'a.example.com' })).status, 421);
  });

  it('serves a new certificate to new handshakes while an established connection keeps going', async () => {
    await apply(a1);
    const live = await keepAlive(port, 'a.example.com');
    try {
      assert.equal(live.serial, serial(a1));
      assert.equal(await live.get('a.example.com'), 'A');
      await apply(a2);
      assert.equal(await live.get('a.example.com'), 'A');
      assert.equal((await keepAlive(port, 'a.example.com').then((c) => (c.close(), c))).serial, serial(a2));
    } finally {
      live.close();
    }
  });

  it('keeps the last certificate that loaded when its replacement does not', async () => {
    await apply(broken());
    assert.equal(dp.boundPort('https'), port);
    const c = await keepAlive(port, 'a.example.com');
    c.close();
    assert.equal(c.serial, serial(a2));
    assert.equal((await h1(port, { sni: 'a.example.com', host: 'a.example.com' })).body, 'A');
  });
});

/** A keep-alive HTTP/1.1 connection: the serial number of the certificate it got, and GETs on it. */
async function keepAlive(port: number, servername: string) {
  const s: TLSSocket = connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
  await new Promise<void>((resolve, reject) => {
    s.once('secureConnect', resolve);
    s.once('error', reject);
  });
  s.setEncoding('utf8');
  const serial = s.getPeerX509Certificate()!.serialNumber;
  return {
    serial,
    close: () => s.destroy(),
    get: (host: string) => new Promise<string>((resolve, reject) => {
      let raw = '';
      const onData = (d: string) => {
        raw += d;
        const head = raw.indexOf('\r\n\r\n');
        const length = /content-length: (\d+)/i.exec(raw)?.[1];
        if (head >= 0 && length !== undefined && raw.length >= head + 4 + Number(length)) {
          s.off('data', onData);
          resolve(raw.slice(head + 4, head + 4 + Number(length)));
        }
      };
      s.on('data', onData);
      s.once('error', reject);
      s.write(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    }),
  };
}
