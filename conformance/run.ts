// Entry point of `npm run conformance`: runs the ported upstream Gateway API
// conformance tests against `archway serve`, one after another on a single
// gateway, and writes an upstream-format ConformanceReport.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { meshFeatures, profiles, profilesAndFeaturesUnderTest, type FeatureName } from './features.js';
import { repoRoot, upstreamConformanceDir } from './harness/paths.js';
import { stopAll } from './harness/processes.js';
import { ConformanceSuite } from './harness/suite.js';
import { buildReport, writeReport, type Outcome, type TestOutcome } from './report.js';
import { loadRegistry, type RegisteredTest } from './tests/index.js';
import { defaultTimeoutConfig } from './utils/config.js';
import { FatalError, T } from './utils/t.js';

const usage = `usage: npm run conformance -- [options]
  --run-test <Name>           run only this test, whatever the supported features
  --supported-features <a,b>  features to test instead of the GatewayClass's status.supportedFeatures
  --report <path>             where to write the ConformanceReport (default conformance/reports/archway-report.yaml)
  --keep-going                run the remaining tests after a failure
  --debug                     stream gateway, backend and test logs to stderr; keep the config directory
  --gateway-class <name>      GatewayClass the suite creates (default archway)
  --controller-name <name>    its spec.controllerName (default archway.dev/gateway-controller)
  --address-pool <cidr>       passed to archway serve (default 127.20.0.0/16)
  --usable-address <addr>     address GatewayStaticAddresses expects the gateway to use (default: the pool's last host address)
  --unusable-address <addr>   address it expects the gateway to refuse (default 192.0.2.1, TEST-NET-1, never sent traffic)`;

function parseOptions() {
  const { values } = parseArgs({
    options: {
      'run-test': { type: 'string' },
      'supported-features': { type: 'string' },
      report: { type: 'string', default: join(repoRoot, 'conformance/reports/archway-report.yaml') },
      'keep-going': { type: 'boolean', default: false },
      debug: { type: 'boolean', default: false },
      'gateway-class': { type: 'string', default: 'archway' },
      'controller-name': { type: 'string', default: 'archway.dev/gateway-controller' },
      'address-pool': { type: 'string', default: '127.20.0.0/16' },
      'usable-address': { type: 'string' },
      'unusable-address': { type: 'string', default: '192.0.2.1' },
      help: { type: 'boolean', default: false },
    },
  });
  return values;
}

/** The highest non-broadcast address of an IPv4 CIDR: inside the pool, and unlikely to be handed to another Gateway. */
function lastHostAddress(cidr: string): string {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m) throw new Error(`--address-pool ${cidr}: expected an IPv4 CIDR (or pass --usable-address)`);
  const base = m.slice(1, 5).reduce((n, o) => n * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(m[5]));
  const last = base - (base % size) + size - 2;
  return [24, 16, 8, 0].map((sh) => Math.floor(last / 2 ** sh) % 256).join('.');
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/** What the implementation claims to support: --supported-features, else its GatewayClass's status; nothing under --run-test alone. */
async function claimedFeatures(suite: ConformanceSuite, override: string | undefined, runTest: string | undefined): Promise<Set<FeatureName> | undefined> {
  if (override !== undefined) return new Set(override.split(',').map((f) => f.trim()).filter(Boolean));
  if (runTest !== undefined) return undefined;
  const gwc = await suite.cluster.get('GatewayClass', undefined, suite.gatewayClassName);
  const names = ((gwc.status?.supportedFeatures ?? []) as { name: string }[]).map((f) => f.name);
  const features = new Set(names.filter((n) => !meshFeatures.has(n)));
  if (features.size === 0) {
    throw new Error(`no supported features were determined: GatewayClass ${suite.gatewayClassName} has no status.supportedFeatures (pass --supported-features to choose them)`);
  }
  return features;
}

async function runOne(test: RegisteredTest, suite: ConformanceSuite, debug: boolean): Promise<T> {
  const t = new T(test.shortName, debug ? (line) => process.stderr.write(`  | ${line}\n`) : undefined);
  const impl = test.impl!;
  const cleanups: (() => Promise<void>)[] = [];
  try {
    for (const manifest of impl.manifests) cleanups.push(await suite.applyManifest(manifest));
    await impl.test(t, suite);
  } catch (err) {
    if (!(err instanceof FatalError)) t.error(err instanceof Error ? err.message : String(err));
  } finally {
    await t.runCleanups();
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((err: Error) => t.error(`cleanup: ${err.message}`));
    }
  }
  return t;
}

async function main(): Promise<number> {
  const opts = parseOptions();
  if (opts.help) {
    console.log(usage);
    return 0;
  }
  const upstreamDir = upstreamConformanceDir();
  const registry = loadRegistry(upstreamDir);
  const runTest = opts['run-test'];
  if (runTest !== undefined && !registry.some((r) => r.shortName === runTest)) throw new Error(`--run-test: no upstream test named ${runTest}`);
  const ported = profiles.filter((p) => registry.some((r) => r.impl && r.features.includes(p.routeFeature)));
  // Until the claims are read (or when setup fails before), every profile with a ported test.
  let selected = ported;

  const outcomes: TestOutcome[] = [];
  const counts = { passed: 0, failed: 0, skipped: 0 };
  const record = (test: RegisteredTest, outcome: Outcome, line: string) => {
    outcomes.push({ shortName: test.shortName, features: test.features, provisional: test.provisional, outcome });
    counts[outcome === 'notSupported' ? 'skipped' : outcome]++;
    console.log(line);
  };

  let suite: ConformanceSuite | undefined;
  let setupError: string | undefined;
  let supported = new Set<FeatureName>();
  const timeouts = defaultTimeoutConfig();
  const started = Date.now();
  try {
    suite = await ConformanceSuite.start({
      upstreamDir, gatewayClassName: opts['gateway-class'], controllerName: opts['controller-name'],
      addressPool: opts['address-pool'], debug: opts.debug, timeouts,
      usableAddress: opts['usable-address'] ?? lastHostAddress(opts['address-pool']),
      unusableAddress: opts['unusable-address'],
    });
    const setup = new T('Setup', opts.debug ? (line) => process.stderr.write(`  | ${line}\n`) : undefined);
    await setup.run('ready', (t) => suite!.checkReady(t));
    if (setup.failed) throw new Error(setup.failures.join('\n'));
    ({ profiles: selected, supported } = profilesAndFeaturesUnderTest(ported, await claimedFeatures(suite, opts['supported-features'], runTest)));
    suite.supportedFeatures = supported;
    console.log(`setup done in ${seconds(Date.now() - started)}; supported features: ${[...supported].sort().join(', ')}`);
  } catch (err) {
    setupError = err instanceof Error ? err.message : String(err);
    console.log(`SETUP FAILED: ${setupError}`);
  }

  let stopped = false;
  for (const test of registry) {
    const missing = test.features.filter((f) => !supported.has(f));
    if (runTest !== undefined && test.shortName !== runTest) {
      record(test, missing.length > 0 ? 'notSupported' : 'skipped', `SKIP  ${test.shortName}: not selected by --run-test`);
    } else if (setupError === undefined && missing.length > 0 && runTest === undefined) {
      record(test, 'notSupported', `SKIP  ${test.shortName}: unsupported feature(s) ${missing.join(', ')}`);
    } else if (!test.impl) {
      record(test, 'skipped', `SKIP  ${test.shortName}: not ported yet`);
    } else if (setupError !== undefined || !suite) {
      record(test, 'failed', `FAIL  ${test.shortName}: suite setup failed`);
    } else if (stopped) {
      record(test, 'skipped', `SKIP  ${test.shortName}: not run after an earlier failure (use --keep-going)`);
    } else {
      const t0 = Date.now();
      const t = await runOne(test, suite, opts.debug);
      if (t.failed) {
        record(test, 'failed', `FAIL  ${test.shortName} (${seconds(Date.now() - t0)})\n${t.failures.map((f) => `      - ${f}`).join('\n')}`);
        stopped = !opts['keep-going'];
      } else {
        record(test, 'passed', `PASS  ${test.shortName} (${seconds(Date.now() - t0)})`);
      }
    }
  }

  writeReport(opts.report, buildReport({ outcomes, profiles: selected, supportedFeatures: supported, gatewayAPIVersion: 'v1.6.1' }));
  console.log(`report: ${opts.report}`);
  console.log(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  return counts.failed > 0 ? 1 : 0;
}

main().then(
  async (code) => {
    await stopAll();
    process.exit(code);
  },
  async (err: unknown) => {
    console.error(`conformance: ${err instanceof Error ? err.message : String(err)}`);
    await stopAll();
    process.exit(1);
  },
);
