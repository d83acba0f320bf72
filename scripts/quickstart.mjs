#!/usr/bin/env node
// Runs the bundled example: two echo backends and a gateway serving
// examples/quickstart on port 8080. Ctrl-C stops all three.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = fileURLToPath(new URL('../bin/archway.js', import.meta.url));
const children = [];

function run(args, label) {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${label} exited (${signal ?? code}); stopping the example`);
      stop(1);
    }
  });
  children.push(child);
}

let stopping = false;
function stop(code = 0) {
  stopping = true;
  for (const c of children) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 500).unref();
}
process.on('SIGINT', () => stop());
process.on('SIGTERM', () => stop());

run(['echo', '--port', '9081', '--host', '127.0.0.1', '--namespace', 'default', '--service', 'store-v1', '--pod', 'store-v1-0'], 'echo store-v1');
run(['echo', '--port', '9082', '--host', '127.0.0.1', '--namespace', 'default', '--service', 'store-v2', '--pod', 'store-v2-0'], 'echo store-v2');
run(['serve', '--config', 'examples/quickstart', '--admin', '127.0.0.1:9901', '--log-level', 'warn'], 'gateway');

setTimeout(() => {
  console.log(`
Archway is serving examples/quickstart on port 8080. Try:

  curl -H 'Host: store.example.com' http://127.0.0.1:8080/store                   # 90% store-v1, 10% store-v2
  curl -H 'Host: store.example.com' -H 'env: canary' http://127.0.0.1:8080/store  # always store-v2
  curl -i -H 'Host: other.example.com' http://127.0.0.1:8080/                    # 404: no route for that host
  curl http://127.0.0.1:9901/status                                              # status of every object

Edit a file under examples/quickstart/ and the change is live within a moment. Ctrl-C stops.
`);
}, 1500).unref();
