import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { killAll } from '../helpers/tsgun.js';
import { SCENARIOS } from './scenarios.js';

after(killAll);

describe('fault suite: real load through each failure, zero failed requests unless the fault itself takes them', () => {
  for (const scenario of SCENARIOS) {
    it(`(${scenario.id}) ${scenario.title}`, async () => {
      const f = await scenario.run();
      assert.ok(
        f.ok >= Math.min(f.sent, 20),
        `too few successful requests to mean anything: ${JSON.stringify(f)}`,
      );
      assert.ok(
        f.failed <= f.allowed,
        `${f.failed} failed requests (allowed ${f.allowed}): ${f.note}`,
      );
    });
  }
});
