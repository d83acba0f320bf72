// `archway serve` with an HTTPS listener whose Secret is rewritten: a new
// certificate reaches new handshakes without a restart while an established
// keep-alive connection keeps working, and a broken replacement is reported
// on the listener while the last certificate that loaded keeps serving.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, type TLSSocket } from 'node:tls';
import { generate } from 'selfsigned';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import { BIN, childPids, eventually, freePort } from './helpers.js';

const HOST = 'secure.example.com';

interface Pair { certPem: string; keyPem: string; serial: string }

async function serverCertificate(): Promise<Pair> {
  const pems = await generate([{ name: 'commonName', value: HOST }], {
    keyType: 'ec',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: HOST }] }],
  });
  return { certPem: pems.cert, keyPem: pems.private, serial: new X509Certificate(pems.cert).serialNumber };
}

function configYaml(port: number, backendPort: number): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: archway}
spec: {controllerName: archway.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: secure, namespace: default}
spec:
  gatewayClassName: archway
  listeners:
  - name: https
    protocol: HTTPS
    port: ${port}
    tls:
      certificateRefs: [{name: cert}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app, namespace: default}
spec:
  parentRefs: [{name: secure}]
  rules:
  - backendRefs: [{name: app, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: app, namespace: default}
spec:
  ports: [{name: http, port: 80}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: app-1
  namespace: default
  labels: {kubernetes.io/service-name: app}
addressType: IPv4
ports: [{name: http, port: ${backendPort}}]
endpoints: [{addresses: [127.0.0.1]}]
`;
}

function secretYaml(certPem: string, keyPem: string): string {
  const block = (pem: string) => pem.trim().split('\n').map((l) => `    ${l}`).join('\n');
  return `apiVersion: v1
kind: Secret
metadata: {name: cert, namespace: default}
type: kubernetes.io/tls
stringData:
  tls.crt: |
${block(certPem)}
  tls.key: |
${block(keyPem)}
`;
}

/** The serial number of the certificate a fresh handshake gets (no session is resumed). */
function handshakeSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, servername: HOST, rejectUnauthorized: false }, () => {
      resolve(s.getPeerX509Certificate()!.serialNumber);
      s.destroy();
    });
    s.once('error', reject);
  });
}

interface Reply { status: number; serial: string | undefined; reused: boolean }

/** The certificate each client connection was handshaken with: read at once, as a client may not keep it readable. */
const handshakenWith = new WeakMap<TLSSocket, string>();

/** A GET through `agent` (one keep-alive connection), with the serial number of the certificate that connection got. */
function getOn(agent: Agent, port: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, servername: HOST, headers: { host: HOST }, agent, rejectUnauthorized: false }, (res) => {
      const socket = res.socket as TLSSocket;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, serial: handshakenWith.get(socket), reused: req.reusedSocket }));
    });
    req.on('socket', (socket: TLSSocket) => {
      if (!handshakenWith.has(socket)) socket.once('secureConnect', () => handshakenWith.set(socket, socket.getPeerX509Certificate()!.serialNumber));
    });
    req.on('error', reject);
    req.end();
  });
}

interface Condition { type: string; status: string; reason: string; message: string }

describe('certificate rotation under archway serve', () => {
  let dir: string;
  let child: ChildProcess;
  let echo: EchoServer;
  let port: number;
  let adminPort: number;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });

  const writeSecret = async (certPem: string, keyPem: string) => {
    // Renamed into place, so that the watcher never reads half a file.
    await writeFile(join(dir, '.secret.tmp'), secretYaml(certPem, keyPem));
    await rename(join(dir, '.secret.tmp'), join(dir, 'secret.yaml'));
  };
  const listenerConditions = () => new Promise<Condition[]>((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port: adminPort, path: '/status' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => {
        const items = (JSON.parse(body) as { items: { kind: string; metadata: { name: string }; status: any }[] }).items;
        resolve(items.find((i) => i.kind === 'Gateway' && i.metadata.name === 'secure')?.status.listeners[0].conditions ?? []);
      });
    }).on('error', reject).end();
  });
  const condition = async (type: string) => (await listenerConditions()).find((c) => c.type === type);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'archway-rotation-'));
    echo = await startEchoServer({ port: 0, host: '127.0.0.1', namespace: 'default', service: 'app', pod: 'app-0' });
    port = await freePort();
    adminPort = await freePort();
    await writeFile(join(dir, 'config.yaml'), configYaml(port, echo.port));
  });

  after(async () => {
    agent.destroy();
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    await echo.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('picks up a new certificate without a restart, keeping the established connection', async () => {
    const first = await serverCertificate();
    await writeSecret(first.certPem, first.keyPem);
    child = spawn(process.execPath, [BIN, 'serve', '--config', dir, '--admin', `127.0.0.1:${adminPort}`,
      '--bind-address', '127.0.0.1', '--log-level', 'error', '--workers', '2'], { stdio: 'ignore' });
    await eventually('the first certificate', async () => ((await handshakeSerial(port)) === first.serial ? true : undefined));
    const opened = await getOn(agent, port);
    assert.deepEqual(opened, { status: 200, serial: first.serial, reused: false });

    const second = await serverCertificate();
    await writeSecret(second.certPem, second.keyPem);
    await eventually('the second certificate', async () => ((await handshakeSerial(port)) === second.serial ? true : undefined));
    assert.deepEqual(await getOn(agent, port), { status: 200, serial: first.serial, reused: true });
    assert.equal((await condition('Programmed'))?.status, 'True');

    const broken = [
      { what: 'a key that does not match', certPem: (await serverCertificate()).certPem, keyPem: second.keyPem, message: /does not match/ },
      { what: 'a malformed certificate', certPem: '-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----', keyPem: second.keyPem, message: /not a valid PEM/ },
    ];
    for (const { what, certPem, keyPem, message } of broken) {
      await writeSecret(certPem, keyPem);
      const refs = await eventually(`${what} reported`, async () => {
        const c = await condition('ResolvedRefs');
        return c?.status === 'False' && message.test(c.message) ? c : undefined;
      });
      assert.equal(refs.reason, 'InvalidCertificateRef');
      const programmed = (await condition('Programmed'))!;
      assert.equal(programmed.status, 'False');
      assert.match(programmed.message, /keeps the last certificate that loaded/);
      assert.equal(await handshakeSerial(port), second.serial, `${what}: new handshakes still get the last good certificate`);
      assert.deepEqual(await getOn(agent, port), { status: 200, serial: first.serial, reused: true });
    }

    const third = await serverCertificate();
    await writeSecret(third.certPem, third.keyPem);
    await eventually('the third certificate', async () => ((await handshakeSerial(port)) === third.serial ? true : undefined));
    await eventually('the listener programmed again', async () => ((await condition('ResolvedRefs'))?.status === 'True' ? true : undefined));
    assert.equal((await condition('Programmed'))?.status, 'True');
    assert.deepEqual(await getOn(agent, port), { status: 200, serial: first.serial, reused: true });

    // Workers started while the Secret is broken serve the last good certificate too.
    await writeSecret(broken[1]!.certPem, broken[1]!.keyPem);
    await eventually('the broken certificate reported', async () => ((await condition('ResolvedRefs'))?.status === 'False' ? true : undefined));
    for (const pid of await childPids(child.pid!)) {
      process.kill(pid, 'SIGTERM');
      await eventually('a replacement worker serving', async () => {
        const now = await childPids(child.pid!);
        return now.length === 2 && !now.includes(pid) && (await handshakeSerial(port)) === third.serial ? true : undefined;
      });
    }
    for (let i = 0; i < 20; i++) assert.equal(await handshakeSerial(port), third.serial, `handshake ${i} after the workers were replaced`);
  });
});
