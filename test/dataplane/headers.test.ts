import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileMutation, editedResponseLines, type ResponseEdits } from '../../src/dataplane/headers.js';

const LINES = 'Server: up\r\nX-Route-Set: upstream\r\nx-backend-set: upstream\r\nX-Kept:  as sent \r\nX-Removed: 1\r\n';

describe('response field lines edited in place', () => {
  const route = compileMutation({ set: [{ name: 'X-Route-Set', value: 'route' }], add: [{ name: 'x-route-add', value: 'r' }, { name: 'x-dropped-later', value: 'r' }], remove: ['x-removed'] });
  const backend = compileMutation({ set: [{ name: 'x-backend-set', value: 'backend' }], remove: ['x-dropped-later'] });

  it('drops the fields a modifier sets or removes, in any case, and appends its own in set-then-add order', () => {
    const edits: ResponseEdits = { cors: undefined, route, backend: undefined };
    assert.equal(editedResponseLines(LINES, edits), 'Server: up\r\nx-backend-set: upstream\r\nX-Kept:  as sent \r\nx-route-set: route\r\nx-route-add: r\r\nx-dropped-later: r\r\n');
  });

  it('lets a backend modifier drop what the route one added', () => {
    const edits: ResponseEdits = { cors: undefined, route, backend };
    assert.equal(editedResponseLines(LINES, edits), 'Server: up\r\nX-Kept:  as sent \r\nx-route-set: route\r\nx-route-add: r\r\nx-backend-set: backend\r\n');
  });

  it('returns the lines themselves when nothing is dropped', () => {
    const addOnly = compileMutation({ add: [{ name: 'x-extra', value: '1' }] });
    assert.equal(editedResponseLines(LINES, { cors: undefined, route: addOnly, backend: undefined }), `${LINES}x-extra: 1\r\n`);
    assert.equal(editedResponseLines('', { cors: undefined, route: undefined, backend: addOnly }), 'x-extra: 1\r\n');
  });

  it('declines CORS edits and modifiers of fields the proxy owns', () => {
    assert.equal(editedResponseLines(LINES, { cors: ['access-control-allow-origin', '*'], route: undefined, backend: undefined }), undefined);
    for (const name of ['Content-Length', 'date', 'connection', 'x-forwarded-for', 'host']) {
      const owned = compileMutation({ remove: [name] });
      assert.equal(owned.inPlace, false, name);
      assert.equal(editedResponseLines(LINES, { cors: undefined, route, backend: owned }), undefined, name);
    }
    assert.equal(route.inPlace, true);
  });
});
