#!/usr/bin/env -S node --max-semi-space-size=32 --min-semi-space-size=32 --no-memory-reducer
// The semi-space flags fix the young generation at 32 MiB. V8 would start it
// small and grow it only when many objects survive, which a proxy's
// short-lived request objects seldom do: it then scavenges every ~65 ms under
// load, and about 2 % of requests wait on one. At 32 MiB it scavenges a few
// times a second, for ~35 MiB more resident memory.
// --no-memory-reducer: once traffic stops, V8's memory reducer runs full
// collections that let go of object shapes no live object has, such as those
// of connections and requests when the last connection has closed. Every
// piece of optimised code built on them is thrown away with them, so the
// next requests after a pause ran unoptimised while the one core recompiled
// the proxy path (~60 functions, some taking 100 ms): over the 10 s after a
// pause p99 was about twice a warm run's. The heap still shrinks at the
// collections traffic causes.
// Data-plane workers inherit the flags (node:cluster passes execArgv on).
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => { if (typeof code === 'number') process.exitCode = code; },
  (err) => { console.error(err instanceof Error ? err.message : err); process.exitCode = 1; },
);
