import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IDLE_UNSEEN, idleTooLong } from '../../src/dataplane/idle-sweep.js';

describe('idleTooLong', () => {
  it('counts idleness from the first sweep that sees a connection idle, never from before it', () => {
    const conn = { idleSince: IDLE_UNSEEN };
    assert.equal(idleTooLong(conn, 10_000, 5_000), false);
    assert.equal(conn.idleSince, 10_000);
    assert.equal(idleTooLong(conn, 14_999, 5_000), false);
    assert.equal(idleTooLong(conn, 15_000, 5_000), true);
  });

  it('starts again when the connection goes idle anew', () => {
    const conn = { idleSince: 1_000 };
    assert.equal(idleTooLong(conn, 7_000, 5_000), true);
    conn.idleSince = IDLE_UNSEEN;
    assert.equal(idleTooLong(conn, 7_000, 5_000), false);
    assert.equal(idleTooLong(conn, 11_000, 5_000), false);
  });
});
