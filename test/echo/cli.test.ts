import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import http2 from 'node:http2';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';

const bin = fileURLToPath(new URL('../../../bin/archway.js', import.meta.url));
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) child.kill();
});

/** Starts `archway echo` on ephemeral ports and waits for its listening lines. */
async function startCli(args: string[], expectedLines: number) {
  const child = spawn(process.execPath, [bin, 'echo', '--host', '127.0.0.1', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let stdout = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (c: string) => (stdout += c));
  const ports = await new Promise<number[]>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`echo exited with ${code}: ${stdout}`)));
    const check = () => {
      const found = [...stdout.matchAll(/^echo listening on 127\.0\.0\.1:(\d+)/gm)].map((m) => Number(m[1]));
      if (found.length >= expectedLines) resolve(found);
      else child.stdout!.once('data', check);
    };
    check();
  });
  return { ports, output: () => stdout };
}

async function eventually(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('archway echo prints the mirror log line on stdout as each request arrives', async () => {
  const { ports: [port], output } = await startCli([], 1);
  await new Promise<void>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/mirror?delay=10ms', agent: false }, (res) => res.resume().on('end', resolve)).on('error', reject);
  });
  await eventually(() => /^Echoing back request made to \/mirror\?delay=10ms to client \(127\.0\.0\.1:\d+\)$/m.test(output()));
});

test('archway echo --h2c-port serves HTTP/2 with prior knowledge', async () => {
  const { ports: [, h2cPort] } = await startCli(['--h2c-port', '0'], 2);
  const session = http2.connect(`http://127.0.0.1:${h2cPort}`);
  try {
    const body = await new Promise<string>((resolve, reject) => {
      let data = '';
      const req = session.request({ ':path': '/' });
      req.setEncoding('utf8');
      req.on('data', (c: string) => (data += c)).on('end', () => resolve(data)).on('error', reject);
    });
    assert.equal(JSON.parse(body).proto, 'HTTP/2.0');
  } finally {
    session.close();
  }
});

test('archway echo rejects TLS files without --https-port', async () => {
  const child = spawn(process.execPath, [bin, 'echo', '--port', '0', '--tls-cert', 'x'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  assert.equal(code, 2);
  assert.match(stderr, /need --https-port/);
});

test('archway echo --mode tcp, udp and grpc report their ports with a tag', async () => {
  const tcp = await startCli(['--mode', 'tcp'], 1);
  assert.match(tcp.output(), /^echo listening on 127\.0\.0\.1:\d+ \(tcp\)$/m);
  const udp = await startCli(['--mode', 'udp', '--pod', 'p'], 1);
  assert.match(udp.output(), /^echo listening on 127\.0\.0\.1:\d+ \(udp\)$/m);
  const grpc = await startCli(['--mode', 'grpc'], 1);
  assert.match(grpc.output(), /^echo listening on 127\.0\.0\.1:\d+ \(grpc\)$/m);
});

test('archway echo rejects flags of another mode', async () => {
  for (const [args, message] of [
    [['--mode', 'udp', '--tls-port', '0'], /--tls-port does not apply to --mode udp/],
    [['--mode', 'tcp', '--https-port', '0'], /--https-port does not apply to --mode tcp/],
    [['--mode', 'tcp', '--tls-port', '0'], /--tls-port needs --tls-cert and --tls-key/],
    [['--mode', 'grpc', '--h2c-port', '0'], /--h2c-port does not apply to --mode grpc/],
    [['--mode', 'grpc', '--https-port', '0'], /--https-port needs --tls-cert and --tls-key/],
    [['--mode', 'quic'], /--mode must be http, tcp, udp or grpc/],
  ] as const) {
    const child = spawn(process.execPath, [bin, 'echo', '--port', '0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    assert.equal(code, 2, stderr);
    assert.match(stderr, message);
  }
});
