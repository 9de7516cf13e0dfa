// Shape caps checked before the tree is built. htmlparser2's Parser keeps its open-tag stack with
// Array.unshift/shift, so parsing is quadratic in nesting depth (500000 nested <b> take minutes),
// and extraction parses a page several times. A page deeper or larger than these caps is read
// by the linear tokenizer below instead, without a tree.
import type { Document } from 'domhandler';
import { DomHandler, Parser, Tokenizer } from 'htmlparser2';
import { BLOCK_TAGS } from './dom.ts';

export interface HtmlCaps {
  /** Open elements at once. Chromium's HTML tree builder stops nesting at 512 too
   *  (kMaximumHTMLParserDOMTreeDepth), so no page renders deeper than this. */
  maxDepth: number;
  /** Elements in the whole page. */
  maxElements: number;
}

export const DEFAULT_HTML_CAPS: HtmlCaps = { maxDepth: 512, maxElements: 150_000 };

/** Whether the page stays within the caps: a cheap bound first, the exact check only when the
 *  bound is not enough (most real pages never need it). */
export function withinCaps(html: string, caps: HtmlCaps = DEFAULT_HTML_CAPS): boolean {
  return boundWithin(html, caps) || exactWithin(html, caps);
}

// Never pushed on the Parser's stack.
const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr']);

/**
 * An upper bound on the Parser's stack from the tokenizer alone (no stack, so linear and about
 * twice as fast as parsing): each open tag counts, a close tag uncounts one open tag of its name
 * if there is one. The Parser only ever closes more (implied closes, closing up to a match), so
 * the real depth is never higher. The element count is exact.
 */
function boundWithin(html: string, caps: HtmlCaps): boolean {
  const open = new Map<string, number>();
  let depth = 0;
  let peak = 0;
  let elements = 0;
  const none = (): void => {};
  const tok = new Tokenizer(
    { decodeEntities: false },
    {
      onopentagname: (s, e) => {
        const name = html.slice(s, e).toLowerCase();
        elements++;
        if (VOID.has(name)) return;
        open.set(name, (open.get(name) ?? 0) + 1);
        if (++depth > peak) peak = depth;
      },
      onclosetag: (s, e) => {
        const name = html.slice(s, e).toLowerCase();
        const n = open.get(name) ?? 0;
        if (n > 0) {
          open.set(name, n - 1);
          depth--;
        }
      },
      ontext: none,
      ontextentity: none,
      onopentagend: none,
      onselfclosingtag: none,
      onattribdata: none,
      onattribentity: none,
      onattribend: none,
      onattribname: none,
      oncdata: none,
      oncomment: none,
      ondeclaration: none,
      onprocessinginstruction: none,
      onend: none,
    },
  );
  tok.write(html);
  tok.end();
  return peak <= caps.maxDepth && elements <= caps.maxElements;
}

/**
 * The exact check with htmlparser2's own Parser. Stops at the first tag past a cap, so the stack
 * never grows beyond `maxDepth` (the cost stays linear in the page size).
 */
function exactWithin(html: string, caps: HtmlCaps): boolean {
  let open = 0;
  let elements = 0;
  let over = false;
  const parser: Parser = new Parser({
    onopentag() {
      open++;
      elements++;
      if (open > caps.maxDepth || elements > caps.maxElements) {
        over = true;
        parser.pause(); // the tokenizer stops reading: the rest of the page is never parsed
      }
    },
    // Also called for tags closed implicitly and for void elements: `open` is the stack's length.
    onclosetag() {
      open--;
    },
  });
  parser.write(html);
  if (!over) parser.end();
  return !over;
}

/**
 * The tree of a page within the caps, or null for a page past them: the exact check (as in
 * exactWithin) done by the parse that builds the tree, so a page that fits is tokenized once, not
 * once for the check and again for the tree. Past a cap the parser stops at once, as above.
 */
export function parseWithinCaps(html: string, caps: HtmlCaps = DEFAULT_HTML_CAPS): Document | null {
  const handler = new CappedHandler(caps);
  const parser = new Parser(handler);
  handler.host = parser;
  parser.write(html);
  if (handler.over) return null;
  parser.end();
  return handler.root;
}

class CappedHandler extends DomHandler {
  /** Set before parsing: the parser to pause (DomHandler keeps its own reference private). */
  host: Parser | null = null;
  over = false;
  private open = 0;
  private elements = 0;
  private readonly caps: HtmlCaps;
  constructor(caps: HtmlCaps) {
    super();
    this.caps = caps;
  }
  override onopentag(name: string, attribs: { [key: string]: string }): void {
    if (this.over) return;
    super.onopentag(name, attribs);
    if (++this.open > this.caps.maxDepth || ++this.elements > this.caps.maxElements) {
      this.over = true;
      this.host?.pause();
    }
  }
  // Also called for tags closed implicitly and for void elements, as in exactWithin.
  override onclosetag(): void {
    if (this.over) return;
    this.open--;
    super.onclosetag();
  }
}

const SKIP = new Set(['script', 'style', 'noscript', 'template', 'svg', 'head', 'nav', 'footer']);

/** Text of a page straight from the tokenizer (no stack, no tree): linear whatever the nesting.
 *  Blocks become line breaks, non-content elements are skipped, the <title> is kept apart. */
export function tokenText(html: string): { title: string; text: string } {
  const parts: string[] = [];
  let title = '';
  let skip = 0;
  let inTitle = false;
  let pending = ''; // name of the tag being opened (its name comes before its attributes)
  const emit = (s: string): void => {
    if (inTitle) title += s;
    else if (skip === 0) parts.push(s);
  };
  const opened = (name: string): void => {
    if (SKIP.has(name)) skip++;
    if (name === 'title') inTitle = true;
    if (BLOCK_TAGS.has(name)) parts.push('\n');
  };
  const none = (): void => {};
  const tok = new Tokenizer(
    { decodeEntities: true },
    {
      ontext: (s, e) => emit(html.slice(s, e)),
      ontextentity: (cp) => emit(String.fromCodePoint(cp)),
      onopentagname: (s, e) => {
        pending = html.slice(s, e).toLowerCase();
      },
      onopentagend: () => opened(pending),
      onselfclosingtag: () => {
        // <x/> opens nothing that needs closing: count it as opened and closed at once
        if (BLOCK_TAGS.has(pending)) parts.push('\n');
      },
      onclosetag: (s, e) => {
        const name = html.slice(s, e).toLowerCase();
        if (SKIP.has(name) && skip > 0) skip--;
        if (name === 'title') inTitle = false;
        if (BLOCK_TAGS.has(name)) parts.push('\n');
      },
      onattribdata: none,
      onattribentity: none,
      onattribend: none,
      onattribname: none,
      oncdata: none,
      oncomment: none,
      ondeclaration: none,
      onprocessinginstruction: none,
      onend: none,
    },
  );
  tok.write(html);
  tok.end();
  const text = parts
    .join('')
    .replace(/[ \t\u00a0]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return { title: title.replace(/\s+/g, ' ').trim(), text };
}
