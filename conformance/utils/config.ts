// Port of upstream conformance/utils/config/timeout.go. The field meanings are
// upstream's; the values are scaled down because the gateway under test runs
// on this machine and converges in well under a second, so a failing
// expectation should cost seconds, not minutes.

export interface TimeoutConfig {
  createTimeout: number;
  /** Upstream's DefaultTestTimeout: a test's own polls that have no dedicated timeout. */
  defaultTestTimeout: number;
  deleteTimeout: number;
  getTimeout: number;
  gatewayMustHaveAddress: number;
  gatewayMustHaveCondition: number;
  gatewayStatusMustHaveListeners: number;
  gatewayListenersMustHaveConditions: number;
  gwcMustBeAccepted: number;
  httpRouteMustNotHaveParents: number;
  httpRouteMustHaveCondition: number;
  tlsRouteMustHaveCondition: number;
  tcpRouteMustHaveCondition: number;
  udpRouteMustHaveCondition: number;
  listenerSetMustHaveCondition: number;
  listenerSetListenersMustHaveConditions: number;
  routeMustHaveParents: number;
  maxTimeToConsistency: number;
  namespacesMustBeReady: number;
  requestTimeout: number;
  latestObservedGenerationSet: number;
  defaultPollInterval: number;
  /** Upstream sleeps a fixed 1s after each failed attempt in AwaitConvergence. */
  convergenceRetryDelay: number;
  /** Upstream polls negative route checks once a second, on purpose slower than defaultPollInterval. */
  negativePollInterval: number;
  requiredConsecutiveSuccesses: number;
}

/** Milliseconds throughout. */
export function defaultTimeoutConfig(): TimeoutConfig {
  return {
    createTimeout: 15_000,
    defaultTestTimeout: 15_000,
    deleteTimeout: 15_000,
    getTimeout: 5_000,
    gatewayMustHaveAddress: 15_000,
    gatewayMustHaveCondition: 15_000,
    gatewayStatusMustHaveListeners: 10_000,
    gatewayListenersMustHaveConditions: 10_000,
    gwcMustBeAccepted: 15_000,
    httpRouteMustNotHaveParents: 10_000,
    httpRouteMustHaveCondition: 10_000,
    tlsRouteMustHaveCondition: 10_000,
    tcpRouteMustHaveCondition: 10_000,
    udpRouteMustHaveCondition: 10_000,
    listenerSetMustHaveCondition: 10_000,
    listenerSetListenersMustHaveConditions: 10_000,
    routeMustHaveParents: 10_000,
    maxTimeToConsistency: 10_000,
    namespacesMustBeReady: 30_000,
    requestTimeout: 5_000,
    latestObservedGenerationSet: 10_000,
    defaultPollInterval: 100,
    convergenceRetryDelay: 250,
    negativePollInterval: 500,
    requiredConsecutiveSuccesses: 3,
  };
}
