import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMMON_FIELD_NAMES, commonFieldIndex } from '../../src/dataplane/http-syntax.js';

const nameAt = (text: string): string | undefined => {
  const index = commonFieldIndex(Buffer.from(`x${text}:`, 'latin1'), 1, 1 + text.length);
  return index < 0 ? undefined : COMMON_FIELD_NAMES[index];
};

describe('common field names', () => {
  it('reads a common name in any case as its lowercase form', () => {
    assert.equal(nameAt('Host'), 'host');
    assert.equal(nameAt('USER-AGENT'), 'user-agent');
    assert.equal(nameAt('accept-Encoding'), 'accept-encoding');
    assert.equal(nameAt('X-Forwarded-Proto'), 'x-forwarded-proto');
  });

  it('leaves other names, of a listed length or not, to the caller', () => {
    assert.equal(nameAt('hast'), undefined);
    assert.equal(nameAt('user_agent'), undefined);
    assert.equal(nameAt('x-custom-header-name'), undefined);
    assert.equal(nameAt('a'), undefined);
  });
});
