import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IRDecoder, IREncoder } from '../../src/ir/delta.js';
import { IR_VERSION, type IRConfig, type IRRoute } from '../../src/ir/types.js';

function route(name: string, path = `/${name}`): IRRoute {
  return { name, match: { path: { type: 'PathPrefix', value: path } }, action: { type: 'directResponse', status: 200, body: name } };
}

function config(routes: IRRoute[], extra: IRRoute[] = []): IRConfig {
  return {
    irVersion: IR_VERSION,
    clusters: { 'ns/svc:80': { name: 'ns/svc:80', protocol: 'http1', endpoints: [{ address: '127.0.0.1', port: 1 }] } },
    servers: [{
      id: '0.0.0.0:80', address: '0.0.0.0', port: 80, protocol: 'HTTP', owner: 'ns/gw',
      virtualHosts: [{ hostname: 'a.example', routes }, { hostname: '*', routes: [...extra] }],
    }],
  };
}

const refs = (text: string): number => (text.match(/"ref":/g) ?? []).length;

describe('IR delta encoding', () => {
  it('decodes to the config it encoded', () => {
    const c = config([route('a'), route('b')], [route('c')]);
    const text = new IREncoder().encode(c);
    assert.deepEqual(new IRDecoder().decode(text), c);
    assert.equal(refs(text), 0);
  });

  it('sends unchanged routes as references and hands back the same route objects', () => {
    const enc = new IREncoder();
    const dec = new IRDecoder();
    const a = route('a');
    const b = route('b');
    const first = dec.decode(enc.encode(config([a, b])));
    const b2 = route('b', '/changed');
    const text = enc.encode(config([a, b2], [a]));
    assert.equal(refs(text), 2, 'route a, twice, goes by reference');
    assert.ok(!text.includes('"body":"a"'), 'route a is not sent again');
    const second = dec.decode(text);
    assert.deepEqual(second, config([a, b2], [a]));
    const [firstA] = first.servers[0]!.virtualHosts[0]!.routes;
    const [secondA, secondB] = second.servers[0]!.virtualHosts[0]!.routes;
    assert.equal(secondA, firstA, 'the unchanged route is the very object decoded before');
    assert.equal(second.servers[0]!.virtualHosts[1]!.routes[0], firstA);
    assert.notEqual(secondB, first.servers[0]!.virtualHosts[0]!.routes[1]);
  });

  it('refuses a delta it cannot resolve, and a whole encoding brings a new receiver in step', () => {
    const enc = new IREncoder();
    const old = new IRDecoder();
    const a = route('a');
    const c1 = config([a]);
    old.decode(enc.encode(c1));
    const c2 = config([a, route('b')]);
    const delta = enc.encode(c2);
    const fresh = new IRDecoder();
    assert.throws(() => fresh.decode(delta), /does not hold/);
    // The whole text of the same config, for the newcomer; the one in step takes the delta.
    assert.deepEqual(fresh.decode(enc.encode(c2, { full: true })), c2);
    assert.deepEqual(old.decode(delta), c2);
    // Both are in step for the next delta.
    const c3 = config([a], [route('c')]);
    const next = enc.encode(c3);
    assert.deepEqual(fresh.decode(next), c3);
    assert.deepEqual(old.decode(next), c3);
  });

  it('forgets routes that left the config, on both sides', () => {
    const enc = new IREncoder();
    const dec = new IRDecoder();
    const a = route('a');
    const b = route('b');
    dec.decode(enc.encode(config([a, b])));
    dec.decode(enc.encode(config([b])));
    // a comes back: the receiver no longer holds it, so it is sent whole.
    const text = enc.encode(config([a, b]));
    assert.ok(text.includes('"body":"a"'));
    assert.deepEqual(dec.decode(text), config([a, b]));
  });

  it('leaves a receiver unchanged when a delta fails', () => {
    const enc = new IREncoder();
    const dec = new IRDecoder();
    const a = route('a');
    dec.decode(enc.encode(config([a])));
    assert.throws(() => dec.decode(JSON.stringify({ ...config([]), servers: [{ ...config([]).servers[0], virtualHosts: [{ hostname: '*', routes: [{ ref: 999 }] }] }] })));
    assert.deepEqual(dec.decode(enc.encode(config([a, route('b')]))), config([a, route('b')]));
  });
});
