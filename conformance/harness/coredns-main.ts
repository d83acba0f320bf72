// The process the harness runs for a coredns Deployment: `--host IP` and the
// container's args (`-conf <Corefile>`), then one line per bound port.
import { readFileSync } from 'node:fs';
import { startCoreDNS } from './coredns.js';

const argv = process.argv.slice(2);
const flag = (name: string): string => {
  const i = argv.indexOf(name);
  const value = i >= 0 ? argv[i + 1] : undefined;
  if (value === undefined) throw new Error(`coredns stand-in: ${name} is required`);
  return value;
};
const host = flag('--host');
const dns = await startCoreDNS(readFileSync(flag('-conf'), 'utf8'), host);
for (const { containerPort, port } of dns.ports) console.log(`dns listening on ${host}:${port} (udp ${containerPort})`);
