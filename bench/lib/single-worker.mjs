// What the single-worker tools (profile.mjs, instructions.mjs) set up before
// starting Archway under their instrument: the Node backend on two ports and a
// config directory for one route shape.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { archwayFiles } from './configs.mjs';
import { freePort } from './util.mjs';

const BENCH = dirname(dirname(fileURLToPath(import.meta.url)));

/**
 * A temp directory (`tmp`) holding Archway's config for `shape` (`config`),
 * the ports it will serve and be administered on, and the backend it
 * forwards to, already started (stop it with backend.kill()).
 */
export async function prepareSingleWorker({ name, shape }) {
  const tmp = mkdtempSync(join(tmpdir(), `archway-${name}-`));
  const [port, adminPort, tlsPort, a, b] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const backend = spawn(process.execPath, [join(BENCH, 'backend-node.mjs'), String(a), String(b)], { stdio: 'inherit' });
  const config = join(tmp, 'config');
  mkdirSync(config, { recursive: true });
  const stub = '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n';
  for (const [f, text] of Object.entries(archwayFiles({ shape, port, tlsPort, a, b, certPem: stub, keyPem: stub }))) {
    // The HTTPS listener is not measured by these tools; its bad certificate only costs a status condition.
    writeFileSync(join(config, f), text);
  }
  return { tmp, config, port, adminPort, backend };
}
