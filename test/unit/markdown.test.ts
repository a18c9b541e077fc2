import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anchors, fences, inlineCode, relativeLinks, slug } from '../helpers/markdown.js';

describe('markdown: what the docs test reads in a page', () => {
  it("makes GitHub's anchors, repeated headings suffixed", () => {
    assert.equal(slug('Router mode (`--router`)'), 'router-mode---router');
    assert.equal(slug("From PM2's ecosystem.config.js"), 'from-pm2s-ecosystemconfigjs');
    assert.equal(slug('The cost of --stats and statsd'), 'the-cost-of---stats-and-statsd');
    const page = '# A\n\n## B\n\n```sh\n# not a heading\n```\n\n## B\n';
    assert.deepEqual([...anchors(page)], ['a', 'b', 'b-1']);
  });

  it('finds relative links in prose, not in code or inline code, and not URLs', () => {
    const page = [
      'See [x](x.md#a) and [web](https://example.org) and `[no](no.md)`.',
      '```md',
      '[nor](nor.md)',
      '```',
      '[same page](#top)',
    ].join('\n');
    assert.deepEqual(relativeLinks(page), ['x.md#a', '#top']);
  });

  it('separates fenced blocks (with their info string) from inline code', () => {
    const page = 'Run `tsgun -w 2`.\n\n```sh test\nnpx tsgun app.js &\n```\n';
    assert.deepEqual(fences(page), [{ info: 'sh test', body: 'npx tsgun app.js &\n' }]);
    assert.deepEqual(inlineCode(page), ['tsgun -w 2']);
  });
});
