import { SupportGateway } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { gatewayMustHaveCondition, gatewayMustHaveLatestConditions } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const GatewayInvalidParametersRef: ConformanceTest = {
  shortName: 'GatewayInvalidParametersRef',
  description: 'A Gateway referencing an invalid or non-existent parametersRef should set the Accepted condition to False with reason InvalidParameters.',
  features: [SupportGateway],
  manifests: ['tests/gateway-invalid-parameters-ref.yaml'],
  test: async (t, s) => {
    const gwNN = { name: 'gateway-invalid-parameters-ref', namespace: InfrastructureNamespace };
    await gatewayMustHaveLatestConditions(t, s, gwNN);
    await gatewayMustHaveCondition(t, s, gwNN, { type: 'Accepted', status: 'False', reason: 'InvalidParameters' });
  },
};
