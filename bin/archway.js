#!/usr/bin/env -S node --max-semi-space-size=32 --min-semi-space-size=32
// The flags above fix the young generation's semi-spaces at 32 MiB. V8 would
// start them small and grow them only when many objects survive, which a
// proxy's short-lived request objects seldom do: it then scavenges every ~65 ms
// under load, and about 2 % of requests wait on one. At 32 MiB it scavenges a
// few times a second, for ~35 MiB more resident memory. Data-plane workers
// inherit the flags (node:cluster passes execArgv on).
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => { if (typeof code === 'number') process.exitCode = code; },
  (err) => { console.error(err instanceof Error ? err.message : err); process.exitCode = 1; },
);
