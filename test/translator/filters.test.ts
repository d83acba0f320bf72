import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptySnapshot, type HTTPRouteFilter } from '../../src/resources/types.js';
import { BackendResolver } from '../../src/translator/backends.js';
import { parseDuration } from '../../src/translator/durations.js';
import { FilterError, compileBackendFilters, compileRuleFilters } from '../../src/translator/filters.js';

const from = { kind: 'HTTPRoute', namespace: 'default' };
const compile = (filters: HTTPRouteFilter[]) => compileRuleFilters(filters, new BackendResolver(emptySnapshot()), from, []);

describe('parseDuration', () => {
  for (const [text, ms] of [['1s', 1000], ['500ms', 500], ['1h30m', 5_400_000], ['1m1s1ms', 61_001], ['0s', 0], ['99999ms', 99_999]] as const) {
    it(`${text} is ${ms} ms`, () => assert.equal(parseDuration(text), ms));
  }
  for (const text of ['', '1', '1d', '1.5s', '-1s', 's', '1s ', '1h1m1s1ms1h']) {
    it(`${JSON.stringify(text)} is not a duration`, () => assert.equal(parseDuration(text), undefined));
  }
});

describe('compileRuleFilters', () => {
  it('rejects a malformed CORS origin with the offending value', () => {
    assert.throws(() => compile([{ type: 'CORS', cors: { allowOrigins: ['ftp://files.example.com/path'] } }]),
      (err: Error) => err instanceof FilterError && err.message.includes('ftp://files.example.com/path'));
  });

  it('accepts wildcard and port origins and defaults maxAge to 5', () => {
    const f = compile([{ type: 'CORS', cors: { allowOrigins: ['*'] } }]);
    assert.equal(f.cors!.maxAgeSeconds, 5);
    assert.equal(f.cors!.allowCredentials, false);
    compile([{ type: 'CORS', cors: { allowOrigins: ['https://*.example.com', 'http://localhost:8080'] } }]);
  });

  it('rejects a filter given twice, except mirrors', () => {
    const header = { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'a', value: 'b' }] } };
    assert.throws(() => compile([header, header]), FilterError);
  });

  it('rejects redirect with rewrite, and unknown filter types', () => {
    assert.throws(() => compile([{ type: 'RequestRedirect', requestRedirect: {} }, { type: 'URLRewrite', urlRewrite: {} }]), /together/);
    assert.throws(() => compile([{ type: 'ExternalAuth' }]), /not supported/);
  });

  it('reports a mirror to a missing Service without failing the rule', () => {
    const problems: { reason: string; message: string }[] = [];
    const f = compileRuleFilters([{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'nope', port: 80 } } }],
      new BackendResolver(emptySnapshot()), from, problems);
    assert.deepEqual(f.mirrors, []);
    assert.equal(problems[0]!.reason, 'BackendNotFound');
  });

  it('rejects an impossible mirror fraction', () => {
    const snapshot = emptySnapshot();
    snapshot.services.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'm', namespace: 'default' }, spec: { ports: [{ port: 80 }] } });
    assert.throws(() => compileRuleFilters([{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'm', port: 80 }, fraction: { numerator: 5, denominator: 4 } } }],
      new BackendResolver(snapshot), from, []), /fraction/);
  });

  it('allows only header modifiers on backendRefs', () => {
    assert.deepEqual(compileBackendFilters([{ type: 'ResponseHeaderModifier', responseHeaderModifier: { remove: ['X-A'] } }]),
      { responseHeaders: { remove: ['x-a'] } });
    assert.throws(() => compileBackendFilters([{ type: 'RequestMirror' }]), /not supported on backendRefs/);
  });
});
