import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { FeatureName } from '../features.js';
import type { TimeoutConfig } from '../utils/config.js';
import type { HTTPContext } from '../utils/http.js';
import { gwcMustHaveAcceptedConditionTrue, namespacesMustBeReady, type KubeContext } from '../utils/kubernetes.js';
import { RoundTripper } from '../utils/roundtripper.js';
import type { T } from '../utils/t.js';
import { setupObjects } from './certificates.js';
import { Cluster } from './cluster.js';
import { startBackend, type Backend } from './echo.js';
import { deploymentsIn, endpointSlicesFor, servicesSelecting } from './endpointslices.js';
import { GatewayProcess } from './gateway.js';
import { overlayStaticAddresses, parseAddress, parseManifests, prepareManifest, serializeManifests, type KubeObject } from './manifests.js';
import { findIn, type ObjectLookup } from './podspec.js';
import { onExit } from './processes.js';

export const InfrastructureNamespace = 'gateway-conformance-infra';
export const AppBackendNamespace = 'gateway-conformance-app-backend';
export const WebBackendNamespace = 'gateway-conformance-web-backend';
export const InfrastructureGatewayName = 'gateway-conformance-infra-test';
export const InfraBackendServiceNameV1 = 'infra-backend-v1';
export const InfraBackendServiceNameV2 = 'infra-backend-v2';
export const InfraBackendServiceNameV3 = 'infra-backend-v3';

export interface SuiteOptions {
  upstreamDir: string;
  gatewayClassName: string;
  controllerName: string;
  addressPool: string;
  debug: boolean;
  timeouts: TimeoutConfig;
  /** Upstream's --usable-address / --unusable-address, for GatewayStaticAddresses. */
  usableAddress: string;
  unusableAddress: string;
}

/**
 * What upstream's ConformanceTestSuite gives a test, for a standalone
 * gateway: a config directory standing in for the API server, echo
 * processes standing in for pods, generated EndpointSlices standing in for
 * the EndpointSlice controller.
 */
export class ConformanceSuite implements KubeContext, HTTPContext {
  readonly roundTripper: RoundTripper;
  controllerName: string;
  /** The features under test (upstream's suite.SupportedFeatures): a few tests choose what to check by them. */
  supportedFeatures: ReadonlySet<FeatureName> = new Set();
  private readonly backends: Backend[] = [];
  private baseObjects: KubeObject[] = [];
  private objectFiles = 0;

  private constructor(
    readonly opts: SuiteOptions,
    readonly cluster: Cluster,
    private readonly podsDir: string,
  ) {
    this.roundTripper = new RoundTripper(opts.timeouts.requestTimeout);
    this.controllerName = opts.controllerName;
  }

  get timeouts(): TimeoutConfig {
    return this.opts.timeouts;
  }

  get gatewayClassName(): string {
    return this.opts.gatewayClassName;
  }

  /** Starts backends and the gateway on the base manifests, generated Secrets and the suite's GatewayClass. */
  static async start(opts: SuiteOptions): Promise<ConformanceSuite> {
    const root = mkdtempSync(join(tmpdir(), 'archway-conformance-'));
    const configDir = join(root, 'config');
    const stagingDir = join(root, 'staging');
    mkdirSync(configDir);
    mkdirSync(stagingDir);
    if (opts.debug) process.stderr.write(`conformance: config directory ${configDir} (kept)\n`);
    else onExit(() => rmSync(root, { recursive: true, force: true }));

    const cluster = new Cluster(configDir, stagingDir, opts.timeouts);
    const suite = new ConformanceSuite(opts, cluster, join(root, 'pods'));

    const baseText = prepareManifest(readFileSync(join(opts.upstreamDir, 'base/manifests.yaml'), 'utf8'), opts);
    suite.baseObjects = parseManifests(baseText, 'base/manifests.yaml');
    const gatewayClass: KubeObject = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: opts.gatewayClassName },
      spec: { controllerName: opts.controllerName },
    };
    // Some backends mount generated Secrets: those wait for them, the others start meanwhile.
    const generating = setupObjects();
    const inBase = findIn(suite.baseObjects);
    const [setup] = await Promise.all([generating, suite.startBackends(suite.baseObjects, suite.baseObjects,
      async (kind, namespace, name) => inBase(kind, namespace, name) ?? findIn(await generating)(kind, namespace, name))]);
    const slices = endpointSlicesFor(suite.baseObjects, suite.backends);

    await cluster.seed('00-gatewayclass.yaml', serializeManifests([gatewayClass]), [gatewayClass]);
    await cluster.seed('01-setup-secrets.yaml', serializeManifests(setup), setup);
    await cluster.seed('02-base-endpointslices.yaml', serializeManifests(slices), slices);
    await cluster.seed('03-base-manifests.yaml', baseText, suite.baseObjects);

    cluster.connect(await GatewayProcess.start({
      configDir, addressPool: opts.addressPool, debug: opts.debug, readyTimeoutMs: opts.timeouts.namespacesMustBeReady,
    }));
    await cluster.waitReady([gatewayClass, ...suite.baseObjects]);
    return suite;
  }

  /** Upstream's Setup checks: the GatewayClass is accepted, base Gateways and pods are ready. */
  async checkReady(t: T): Promise<void> {
    this.controllerName = await gwcMustHaveAcceptedConditionTrue(t, this, this.gatewayClassName);
    await namespacesMustBeReady(t, this, [InfrastructureNamespace, AppBackendNamespace, WebBackendNamespace]);
  }

  /**
   * Applies an upstream test manifest (e.g. `tests/httproute-matching.yaml`)
   * with backends and EndpointSlices for what it deploys; the returned
   * function undoes all of it.
   */
  async applyManifest(location: string): Promise<() => Promise<void>> {
    let text = prepareManifest(readFileSync(join(this.opts.upstreamDir, location), 'utf8'), this.opts);
    const objects = parseManifests(text, location);
    const overlay = {
      usable: this.opts.usableAddress ? [parseAddress(this.opts.usableAddress)] : [],
      unusable: this.opts.unusableAddress ? [parseAddress(this.opts.unusableAddress)] : [],
    };
    if (overlayStaticAddresses(objects, overlay)) text = serializeManifests(objects);
    const name = basename(location, '.yaml');
    const manifestFile = `10-${name}.yaml`;
    const slicesFile = `11-${name}-endpointslices.yaml`;

    const known = [...this.baseObjects, ...objects];
    const inKnown = findIn(known);
    const added = await this.startBackends(objects, known, async (kind, namespace, name) => inKnown(kind, namespace, name) ?? this.cluster.spec(kind, namespace, name));
    const slices = [
      ...endpointSlicesFor(objects, this.backends),
      ...endpointSlicesFor(this.baseObjects, added),
    ];
    if (slices.length > 0) await this.cluster.seed(slicesFile, serializeManifests(slices), slices);
    await this.cluster.apply(manifestFile, text, objects);

    return async () => {
      await this.cluster.remove(manifestFile);
      await this.cluster.remove(slicesFile);
      for (const b of added) {
        this.cluster.removePod(b.namespace, b.pod);
        this.backends.splice(this.backends.indexOf(b), 1);
        await b.process.stop();
      }
    };
  }

  /**
   * Like upstream's MustApplyObjectsWithCleanup: applies objects a test builds
   * itself and removes them when the (sub)test ends.
   */
  async applyObjects(t: T, objects: KubeObject[]): Promise<void> {
    const fileName = `12-objects-${++this.objectFiles}.yaml`;
    await this.cluster.apply(fileName, serializeManifests(objects), objects);
    t.cleanup(() => this.cluster.remove(fileName));
  }

  /** Services in `known` name the pods; `lookup` finds what they mount. */
  private async startBackends(objects: readonly KubeObject[], known: readonly KubeObject[], lookup: ObjectLookup): Promise<Backend[]> {
    const started = await Promise.all(deploymentsIn(objects).map((dep) => startBackend(dep, {
      service: servicesSelecting(known, dep.namespace, dep.podLabels)[0]?.metadata.name ?? dep.name,
      podsDir: this.podsDir,
      lookup,
      timeoutMs: this.timeouts.createTimeout,
      ...(this.opts.debug ? { echoTo: process.stderr } : {}),
    })));
    for (const b of started) {
      this.backends.push(b);
      this.cluster.addPod({ namespace: b.namespace, name: b.pod, labels: b.labels, ip: b.ip, ready: () => !b.process.exited });
    }
    return started;
  }

  /**
   * Upstream's DumpEchoLogs: output lines since `since` of every pod in the
   * namespace labelled app=<name>, the echo processes' stdout and stderr
   * standing in for container logs.
   */
  echoLogs(namespace: string, app: string, since: number): string[] {
    return this.backends
      .filter((b) => b.namespace === namespace && b.labels.app === app && !b.process.exited)
      .flatMap((b) => b.process.logSince(since));
  }

  /** The gateway's /config: the IR it serves, with what it generated for each Gateway. */
  async gatewayConfig(): Promise<any> {
    return this.cluster.config();
  }

  /** The real port of the backend serving a pod, for what kube-proxy would do with a container port. */
  backendPort(namespace: string, pod: string): number | undefined {
    return this.backends.find((b) => b.namespace === namespace && b.pod === pod)?.port;
  }
}
