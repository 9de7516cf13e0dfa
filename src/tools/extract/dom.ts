// Small helpers over the htmlparser2 (domhandler) tree. We walk the raw tree ourselves instead of
// going through cheerio: extraction is a few linear passes and the wrappers would dominate the cost.
import type { AnyNode, Element, ParentNode } from 'domhandler';

export type { AnyNode, Element, ParentNode };

export function isElement(n: AnyNode): n is Element {
  return n.type === 'tag' || n.type === 'script' || n.type === 'style';
}

export function isText(n: AnyNode): n is AnyNode & { data: string } {
  return n.type === 'text';
}

/** Elements that start a new block of text when rendered. */
export const BLOCK_TAGS = new Set([
  'address', 'article', 'aside', 'blockquote', 'body', 'caption', 'center', 'dd', 'details', 'dialog',
  'dir', 'div', 'dl', 'dt', 'fieldset', 'figcaption', 'figure', 'footer', 'form', 'h1', 'h2', 'h3',
  'h4', 'h5', 'h6', 'header', 'hgroup', 'hr', 'html', 'li', 'main', 'menu', 'nav', 'ol', 'p', 'pre',
  'section', 'summary', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'ul', 'br', 'blockquote',
  'caption', 'legend', 'option', 'frameset', 'noscript',
]);

export const HEADING_TAGS = new Set(['h1', 'h2', 'h3', 'h4', 'h5', 'h6']);

/** Length of `s` with whitespace runs collapsed to one character and the ends trimmed. */
export function collapsedLength(s: string): number {
  let len = 0;
  let inSpace = true; // leading whitespace does not count
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const space = c === 32 || c === 10 || c === 9 || c === 13 || c === 12 || c === 160;
    if (space) {
      if (!inSpace) {
        len++;
        inSpace = true;
      }
    } else {
      len++;
      inSpace = false;
    }
  }
  return inSpace && len > 0 ? len - 1 : len;
}

export function countCommas(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // ASCII comma plus the common CJK / Arabic ones
    if (c === 44 || c === 0x3001 || c === 0xff0c || c === 0x060c || c === 0xfe50) n++;
  }
  return n;
}

/** Plain text of a subtree (no layout), used for titles and small checks. */
export function textOf(n: AnyNode): string {
  if (isText(n)) return n.data;
  if (!('children' in n)) return '';
  let out = '';
  for (const c of (n as ParentNode).children) out += textOf(c);
  return out;
}

export function findFirst(n: AnyNode, pred: (e: Element) => boolean): Element | null {
  if (isElement(n) && pred(n)) return n;
  if (!('children' in n)) return null;
  for (const c of (n as ParentNode).children) {
    const f = findFirst(c, pred);
    if (f) return f;
  }
  return null;
}

export function findAll(n: AnyNode, pred: (e: Element) => boolean, out: Element[] = []): Element[] {
  if (isElement(n) && pred(n)) out.push(n);
  if ('children' in n) for (const c of (n as ParentNode).children) findAll(c, pred, out);
  return out;
}
