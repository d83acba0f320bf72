import { SupportGateway } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import type { GatewaySpecAddress } from '../harness/manifests.js';
import {
  gatewayGroup, gatewayMustHaveCondition, gatewayMustHaveLatestConditions, gatewayStatusMustHaveListeners, namespacesMustBeReady,
  newGatewayRef, waitForGatewayAddress,
} from '../utils/kubernetes.js';
import { poll } from '../utils/t.js';
import type { ConformanceTest } from './types.js';

// Upstream's gateway-static-addresses.go and gateway-optional-address-value.go.

export const GatewayOptionalAddressValue: ConformanceTest = {
  shortName: 'GatewayOptionalAddressValue',
  description: 'Check Gateway Support for GatewayAddressEmpty feature',
  features: [SupportGateway, 'GatewayAddressEmpty'],
  manifests: ['tests/gateway-optional-address-value.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    await namespacesMustBeReady(t, s, [ns]);
    const gwNN = { name: 'gateway-without-address-value', namespace: ns };
    await gatewayMustHaveLatestConditions(t, s, gwNN);
    await s.cluster.get('Gateway', ns, gwNN.name).catch((err: Error) => t.fatal(`error getting Gateway: ${err.message}`));
    // An address of type IPAddress with no value: the implementation picks one.
    await waitForGatewayAddress(t, s, newGatewayRef(gwNN, 'http'));
  },
};

export const GatewayStaticAddresses: ConformanceTest = {
  shortName: 'GatewayStaticAddresses',
  description: 'A Gateway in the gateway-conformance-infra namespace should be able to use previously determined addresses.',
  features: [SupportGateway, 'GatewayStaticAddresses'],
  manifests: ['tests/gateway-static-addresses.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const gwNN = { name: 'gateway-static-addresses', namespace: ns };
    await gatewayMustHaveLatestConditions(t, s, gwNN);
    const gw = await s.cluster.get('Gateway', ns, gwNN.name).catch((err: Error) => t.fatal(`error getting Gateway: ${err.message}`));
    const addrs = (gw.spec?.addresses ?? []) as GatewaySpecAddress[];
    if (addrs.length !== 3) t.fatal(`expected 3 addresses on the Gateway, one invalid, one usable and one unusable. somehow got ${addrs.length}`);
    const [invalidAddress, unusableAddress, usableAddress] = addrs as [GatewaySpecAddress, GatewaySpecAddress, GatewaySpecAddress];
    const withoutAddress = (a: GatewaySpecAddress) => (obj: { spec: { addresses: GatewaySpecAddress[] } }) => {
      obj.spec.addresses = obj.spec.addresses.filter((x) => x.value !== a.value);
    };

    t.log('the Gateway must not be accepted with an address type the implementation does not support');
    await gatewayMustHaveCondition(t, s, gwNN, { type: 'Accepted', status: 'False', reason: 'UnsupportedAddress' });

    t.log(`removing the invalid address ${invalidAddress.value}`);
    await s.cluster.patch('Gateway', ns, gwNN.name, withoutAddress(invalidAddress) as never).catch((err: Error) => t.fatal(`failed to patch Gateway: ${err.message}`));
    await gatewayMustHaveLatestConditions(t, s, gwNN);
    t.log('the Gateway must now be accepted but not programmed, one address being unusable');
    await gatewayMustHaveCondition(t, s, gwNN, { type: 'Accepted', status: 'True', reason: 'Accepted' });
    await gatewayMustHaveCondition(t, s, gwNN, { type: 'Programmed', status: 'False', reason: 'AddressNotUsable' });

    t.log(`removing the unusable address ${unusableAddress.value}`);
    await s.cluster.patch('Gateway', ns, gwNN.name, withoutAddress(unusableAddress) as never).catch((err: Error) => t.fatal(`failed to patch Gateway: ${err.message}`));
    await gatewayMustHaveLatestConditions(t, s, gwNN);
    t.log(`the Gateway must be accepted and programmed with the usable static address ${usableAddress.value}`);
    await gatewayMustHaveCondition(t, s, gwNN, { type: 'Accepted', status: 'True', reason: 'Accepted' });
    await gatewayMustHaveCondition(t, s, gwNN, { type: 'Programmed', status: 'True', reason: 'Programmed' });
    await gatewayStatusMustHaveListeners(t, s, gwNN, [{
      name: 'http',
      supportedKinds: [{ group: gatewayGroup, kind: 'HTTPRoute' }],
      conditions: [{ type: 'Accepted', status: 'True' }, { type: 'ResolvedRefs', status: 'True' }],
      attachedRoutes: 0,
    }]);

    let statusAddresses: GatewaySpecAddress[] = [];
    const one = await poll(s.timeouts.defaultPollInterval, s.timeouts.gatewayMustHaveAddress, async () => {
      const cur = await s.cluster.get('Gateway', ns, gwNN.name).catch(() => undefined);
      statusAddresses = (cur?.status?.addresses ?? []) as GatewaySpecAddress[];
      return statusAddresses.length === 1;
    });
    if (!one) t.fatal(`expected only 1 status address on Gateway, got ${JSON.stringify(statusAddresses)}`);
    const values = statusAddresses.map((a) => a.value);
    if (values.includes(unusableAddress.value)) t.fatal(`should not contain the unusable address ${unusableAddress.value}: ${values.join(', ')}`);
    if (values.includes(invalidAddress.value)) t.fatal(`should not contain the invalid address ${invalidAddress.value}: ${values.join(', ')}`);
    if (!values.includes(usableAddress.value)) t.fatal(`should contain the usable address ${usableAddress.value}: ${values.join(', ')}`);
    for (const a of statusAddresses) {
      if (a.value === usableAddress.value && a.type !== usableAddress.type) {
        t.fatal(`expected address type to match the usable address: want ${usableAddress.type}, got ${a.type}`);
      }
    }
  },
};
