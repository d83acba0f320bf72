#!/usr/bin/env -S node --max-semi-space-size=32
// The flag above: a young generation this large is collected a few times a
// second under load instead of dozens, so fewer requests wait on a scavenge.
// Data-plane workers inherit it (node:cluster passes execArgv on).
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => { if (typeof code === 'number') process.exitCode = code; },
  (err) => { console.error(err instanceof Error ? err.message : err); process.exitCode = 1; },
);
