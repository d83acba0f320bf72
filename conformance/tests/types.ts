import type { FeatureName } from '../features.js';
import type { ConformanceSuite } from '../harness/suite.js';
import type { T } from '../utils/t.js';

/** One upstream conformance test, ported: same name, features, manifests and expectations. */
export interface ConformanceTest {
  shortName: string;
  description: string;
  features: FeatureName[];
  /** Upstream manifest locations, relative to the upstream conformance directory. */
  manifests: string[];
  test: (t: T, s: ConformanceSuite) => Promise<void>;
}
