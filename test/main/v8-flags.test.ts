// The V8 defaults the suite's process sets at start (src/util/v8-flags.ts): set unless the
// operator named the setting on node's command line or in PMIP6_NODE_FLAGS (either spelling).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyDefaultV8Flags } from '../../src/util/v8-flags.ts';

describe('default V8 flags', () => {
  it('--no-allocation-site-pretenuring by default', () => {
    assert.deepEqual(applyDefaultV8Flags([], {}), ['--no-allocation-site-pretenuring']);
  });
  it("the operator's choice wins: node flags or PMIP6_NODE_FLAGS, with - or _", () => {
    assert.deepEqual(applyDefaultV8Flags(['--allocation-site-pretenuring'], {}), []);
    assert.deepEqual(applyDefaultV8Flags(['--max-semi-space-size=32', '--allocation_site_pretenuring'], {}), []);
    assert.deepEqual(applyDefaultV8Flags([], { PMIP6_NODE_FLAGS: '--single-threaded-gc --allocation-site-pretenuring' }), []);
    assert.deepEqual(applyDefaultV8Flags(['--single-threaded-gc'], { PMIP6_NODE_FLAGS: '--single-threaded-gc' }), ['--no-allocation-site-pretenuring']);
  });
});
