// Reading a callgrind dump: instructions (Ir) by function, each JIT-compiled
// function named from the perf map node writes with --perf-basic-prof-only-
// functions (callgrind itself sees only an address there).

import { readFileSync } from 'node:fs';

/** Code ranges from a /tmp/perf-<pid>.map, sorted by start, for naming addresses. */
export function readPerfMap(file) {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [start, size, ...name] = line.split(' ');
      return { start: parseInt(start, 16), end: parseInt(start, 16) + parseInt(size, 16), name: name.join(' ') };
    })
    .sort((a, b) => a.start - b.start);
}

function nameAt(ranges, address) {
  let lo = 0;
  let hi = ranges.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ranges[mid].start <= address) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found >= 0 && address < ranges[found].end ? ranges[found].name : undefined;
}

/**
 * Self instructions per function in a callgrind dump (the Ir event alone),
 * and instructions spent in calls, per callee and caller.
 */
export function instructionsByFunction(dumpFile, ranges) {
  // Names are compressed: "(id) name" the first time, "(id)" after.
  const ids = new Map();
  const resolve = (text) => {
    const m = /^\((\d+)\)(?: (.*))?$/.exec(text);
    if (!m) return text;
    if (m[2] !== undefined) ids.set(m[1], m[2]);
    return ids.get(m[1]);
  };
  const named = (text) => {
    const m = /^0x([0-9a-f]+)$/.exec(text);
    return (m && nameAt(ranges, parseInt(m[1], 16))?.replace(/file:\/\/\S*?\/dist\/src\//, '')) ?? text;
  };
  const self = new Map();
  const calls = new Map();
  let fn;
  let callee;
  let costIsCall = false;
  for (const line of readFileSync(dumpFile, 'utf8').split('\n')) {
    if (line.startsWith('fn=')) fn = named(resolve(line.slice(3)));
    else if (line.startsWith('cfn=')) callee = named(resolve(line.slice(4)));
    else if (line.startsWith('calls=')) costIsCall = true;
    else if (fn !== undefined && /^[+\-*\d]/.test(line)) {
      // "<position> <Ir>": the line after calls= is the call's inclusive cost, every other its own.
      const ir = Number(line.split(/\s+/)[1] ?? 0);
      if (costIsCall) {
        const key = `${callee}\u0000${fn}`;
        calls.set(key, (calls.get(key) ?? 0) + ir);
        costIsCall = false;
      } else self.set(fn, (self.get(fn) ?? 0) + ir);
    }
  }
  let total = 0;
  for (const ir of self.values()) total += ir;
  return { total, self, calls };
}
