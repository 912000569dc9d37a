import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pythonJsonDumps } from './python-json.js';

describe('pythonJsonDumps', () => {
  it('writes what Python json.dumps writes', () => {
    assert.equal(pythonJsonDumps({ access: 'a', secret: 'b', trust_id: null }), '{"access": "a", "secret": "b", "trust_id": null}');
    assert.equal(pythonJsonDumps({ l: [1, true, 'é'], n: { x: 2 } }), '{"l": [1, true, "\\u00e9"], "n": {"x": 2}}');
    assert.deepEqual(JSON.parse(pythonJsonDumps({ k: 'ü"\n' })), { k: 'ü"\n' });
  });
});
