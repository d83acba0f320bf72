import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const BIN = fileURLToPath(new URL('../../../bin/archway.js', import.meta.url));
const run = async (...args: string[]) => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};

describe('archway CLI', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'archway-cli-')); });
  after(() => rm(dir, { recursive: true, force: true }));

  it('prints help for every command', async () => {
    const top = await run('--help');
    assert.equal(top.code, 0);
    for (const command of ['serve', 'validate', 'echo']) {
      assert.match(top.stdout, new RegExp(`\\b${command}\\b`));
      const help = await run(command, '--help');
      assert.equal(help.code, 0);
      assert.match(help.stdout, new RegExp(`Usage: archway ${command}`));
    }
  });

  it('rejects unknown commands and flags with usage', async () => {
    assert.equal((await run('frobnicate')).code, 2);
    const bad = await run('serve', '--no-such-flag');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Usage: archway serve/);
    assert.equal((await run('serve')).code, 2);
  });

  it('validate accepts the bundled example', async () => {
    const example = fileURLToPath(new URL('../../../examples/quickstart', import.meta.url));
    const r = await run('validate', example);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ok: \d+ object/m);
  });

  it('validate lists every problem as file:line: message and exits 1', async () => {
    const broken = join(dir, 'broken.yaml');
    const invalid = join(dir, 'invalid.yaml');
    await writeFile(broken, 'apiVersion: v1\nkind: Service\nmetadata: {name: x\n');
    await writeFile(invalid, `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  rules:
  - backendRefs:
    - name: s
      port: 70000
`);
    const r = await run('validate', dir);
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: `));
    assert.match(r.stdout, /invalid\.yaml:8: .*port.*65535/);
  });
});
