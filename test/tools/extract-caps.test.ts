// The shape caps in front of extraction (src/tools/extract/caps.ts): deep or huge pages are read
// by the linear tokenizer, real pages (sloppy markup included) keep the full extraction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_HTML_CAPS, parseWithinCaps, tokenText, withinCaps } from '../../src/tools/extract/caps.ts';
import { extractReadable } from '../../src/tools/index.ts';

test('depth past the cap is caught, however the nesting is spelled', () => {
  assert.equal(withinCaps('<b>'.repeat(600) + 'x'), false);
  // Stray close tags of other names do not close anything: the page is still 600 deep.
  assert.equal(withinCaps('<b></i>'.repeat(600) + 'x'), false);
  assert.equal(withinCaps('<div>'.repeat(500) + 'x' + '</div>'.repeat(500)), true);
});

test('sloppy markup that only looks deep stays within the caps', () => {
  // Unclosed <p> and <li> close each other implicitly: the real depth is small.
  assert.equal(withinCaps('<body>' + '<p>para'.repeat(2000)), true);
  assert.equal(withinCaps('<ul>' + '<li>item'.repeat(2000) + '</ul>'), true);
  assert.equal(withinCaps('<p>' + '<br><img src=x>'.repeat(2000)), true);
});

test('the element cap counts every element', () => {
  const caps = { ...DEFAULT_HTML_CAPS, maxElements: 1000 };
  assert.equal(withinCaps('<i>a</i>'.repeat(1000), caps), true);
  assert.equal(withinCaps('<i>a</i>'.repeat(1001), caps), false);
});

test('a page past the caps is read linearly: text, title and entities kept, scripts dropped', () => {
  const deep = '<title>A &amp; B</title><body>' + '<div>'.repeat(5000) + '<script>var x="<p>"</script><p>deep &lt;text&gt;</p><nav>menu</nav>';
  assert.deepEqual(extractReadable(deep), { title: 'A & B', text: 'deep <text>' });
  assert.deepEqual(tokenText('<p>one</p><p>two<br/>three</p>'), { title: '', text: 'one\n\ntwo\nthree' });
});

test('the parse that builds the tree applies the same caps as the check', () => {
  // extractReadable checks pages under 1 MB by this parse alone: it must agree with withinCaps.
  const caps = { ...DEFAULT_HTML_CAPS, maxElements: 1000 };
  const cases = ['<b>'.repeat(600) + 'x', '<b></i>'.repeat(600) + 'x', '<div>'.repeat(500) + 'x' + '</div>'.repeat(500),
    '<body>' + '<p>para'.repeat(2000), '<ul>' + '<li>item'.repeat(2000) + '</ul>', '<i>a</i>'.repeat(1000), '<i>a</i>'.repeat(1001)];
  for (const html of cases) {
    for (const c of [DEFAULT_HTML_CAPS, caps]) assert.equal(parseWithinCaps(html, c) !== null, withinCaps(html, c), html.slice(0, 30));
  }
  const doc = parseWithinCaps('<p>one <b>two</b></p>');
  assert.ok(doc && doc.children.length === 1);
  // issue 13's page: refused (the parser pauses at the 513th open tag, see caps.ts)
  assert.equal(parseWithinCaps('<html><body>' + '<b>'.repeat(500_000) + 'x'), null);
});
