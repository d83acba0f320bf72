// Preloaded (--require) into Archway by bench/allocations.mjs, never by the
// project: SIGUSR2 starts V8's sampling heap profiler, counting objects the
// collectors have already freed as well as live ones; the next SIGUSR2 stops
// it and writes the profile to $ARCHWAY_HEAP_SAMPLE_FILE as JSON.
'use strict';
const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');

const session = new Session();
session.connect();
let sampling = false;
process.on('SIGUSR2', () => {
  if (!sampling) {
    sampling = true;
    // Every 128 bytes on average: per-request objects are a few dozen to a few hundred bytes.
    session.post('HeapProfiler.startSampling', { samplingInterval: 128, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
    return;
  }
  sampling = false;
  session.post('HeapProfiler.stopSampling', (err, result) => {
    writeFileSync(process.env.ARCHWAY_HEAP_SAMPLE_FILE, JSON.stringify(err ? { error: String(err) } : result.profile));
  });
});
