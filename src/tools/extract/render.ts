// Renders a cleaned subtree as plain text a model can read: paragraphs separated by blank lines,
// headings as "## ", list items as "- " / "1. ", simple tables as "a | b" rows, links as their text.
import { type AnyNode, type Element, BLOCK_TAGS, HEADING_TAGS, isElement, isText } from './dom.ts';

const SKIP = new Set(['script', 'style', 'noscript', 'template', 'svg', 'img', 'picture', 'video', 'audio',
  'iframe', 'object', 'embed', 'canvas', 'input', 'button', 'select', 'textarea', 'head', 'title', 'meta',
  'link', 'map', 'source', 'track', 'wbr']);
const PARA = new Set(['p', 'blockquote', 'pre', 'table', 'ul', 'ol', 'dl', 'figure', 'hr', 'section', 'article',
  'header', 'footer', 'main', 'aside', 'details', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
const CELL_BLOCKS = new Set(['p', 'div', 'table', 'ul', 'ol', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'pre',
  'blockquote', 'section', 'article', 'br']);

class Out {
  parts: string[] = [];
  /** 0: nothing pending, 1: newline, 2: blank line. */
  brk = 0;
  space = false;
  atLineStart = true;
  prefix = '';

  block(level: 1 | 2): void {
    if (level > this.brk) this.brk = level;
    this.space = false;
  }

  write(s: string, pre = false): void {
    if (!pre) {
      s = s.replace(/[\s\u00a0]+/g, ' ');
      if (s === ' ') {
        this.space = true;
        return;
      }
      if (s === '') return;
      if (s.charCodeAt(0) === 32) {
        this.space = true;
        s = s.slice(1);
      }
      const trailing = s.charCodeAt(s.length - 1) === 32;
      if (trailing) s = s.slice(0, -1);
      this.emit(s);
      this.space = trailing;
    } else {
      if (s === '') return;
      const lines = s.split('\n');
      lines.forEach((line, i) => {
        if (i > 0) {
          this.parts.push('\n');
          this.atLineStart = true;
        }
        if (line !== '') this.emitRaw(line);
      });
    }
  }

  private emit(s: string): void {
    if (this.brk && this.parts.length) {
      this.parts.push(this.brk === 2 ? '\n\n' : '\n');
      this.atLineStart = true;
    }
    this.brk = 0;
    if (this.atLineStart) {
      if (this.prefix) this.parts.push(this.prefix);
      this.prefix = '';
    } else if (this.space) this.parts.push(' ');
    this.space = false;
    this.parts.push(s);
    this.atLineStart = false;
  }

  private emitRaw(s: string): void {
    if (this.brk && this.parts.length) this.parts.push(this.brk === 2 ? '\n\n' : '\n');
    else if (this.space && !this.atLineStart) this.parts.push(' ');
    this.brk = 0;
    this.space = false;
    if (this.atLineStart && this.prefix) {
      this.parts.push(this.prefix);
      this.prefix = '';
    }
    this.parts.push(s);
    this.atLineStart = false;
  }

  toString(): string {
    return this.parts.join('').replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim();
  }
}

function renderChildren(n: Element, out: Out, pre: boolean): void {
  for (const c of n.children) renderNode(c, out, pre);
}

function renderNode(n: AnyNode, out: Out, pre: boolean): void {
  if (isText(n)) {
    out.write(n.data, pre);
    return;
  }
  if (!isElement(n)) return;
  const tag = n.name;
  if (SKIP.has(tag)) return;
  if (tag === 'br') {
    if (pre) out.write('\n', true);
    else out.block(out.brk >= 1 ? 2 : 1); // <br><br> separates paragraphs
    return;
  }
  if (HEADING_TAGS.has(tag)) {
    out.block(2);
    out.prefix = '#'.repeat(Math.min(Number(tag[1]), 4)) + ' ';
    renderChildren(n, out, pre);
    out.prefix = '';
    out.block(2);
    return;
  }
  if (tag === 'li') {
    out.block(1);
    const list = n.parent && isElement(n.parent) ? n.parent : null;
    let marker = '- ';
    if (list?.name === 'ol') {
      const items = list.children.filter((c) => isElement(c) && c.name === 'li');
      const start = Number(list.attribs.start ?? '1') || 1;
      marker = `${start + items.indexOf(n)}. `;
    }
    out.prefix = marker;
    renderChildren(n, out, pre);
    out.prefix = '';
    out.block(1);
    return;
  }
  if (tag === 'pre') {
    out.block(2);
    renderChildren(n, out, true);
    out.block(2);
    return;
  }
  if (tag === 'table' && isSimpleTable(n)) {
    out.block(2);
    renderTable(n, out);
    out.block(2);
    return;
  }
  if (tag === 'hr') {
    out.block(2);
    return;
  }
  const isBlock = BLOCK_TAGS.has(tag);
  if (isBlock) out.block(PARA.has(tag) ? 2 : 1);
  renderChildren(n, out, pre);
  if (isBlock) out.block(PARA.has(tag) ? 2 : 1);
}

function hasBlockInside(n: Element): boolean {
  for (const c of n.children) {
    if (!isElement(c)) continue;
    if (CELL_BLOCKS.has(c.name) && c.name !== 'br') return true;
    if (hasBlockInside(c)) return true;
  }
  return false;
}

function rows(table: Element, acc: Element[] = []): Element[] {
  for (const c of table.children) {
    if (!isElement(c)) continue;
    if (c.name === 'tr') acc.push(c);
    else if (c.name === 'thead' || c.name === 'tbody' || c.name === 'tfoot') rows(c, acc);
  }
  return acc;
}

function cells(tr: Element): Element[] {
  return tr.children.filter((c): c is Element => isElement(c) && (c.name === 'td' || c.name === 'th'));
}

/** A data table (no nested tables, short cells) renders as rows; layout tables as ordinary blocks. */
function isSimpleTable(t: Element): boolean {
  const rs = rows(t);
  const headed = rs.some((r) => r.children.some((c) => isElement(c) && c.name === 'th'));
  for (const r of rs)
    for (const c of cells(r)) {
      if (hasNestedTable(c)) return false;
      if (!headed && hasBlockInside(c) && textLength(c) > 400) return false;
    }
  return true;
}

function hasNestedTable(n: Element): boolean {
  for (const c of n.children) if (isElement(c) && (c.name === 'table' || hasNestedTable(c))) return true;
  return false;
}

function textLength(n: AnyNode): number {
  if (isText(n)) return n.data.length;
  if (!isElement(n)) return 0;
  let len = 0;
  for (const c of n.children) len += textLength(c);
  return len;
}

function renderTable(t: Element, out: Out): void {
  for (const c of t.children) if (isElement(c) && c.name === 'caption') renderNode(c, out, false);
  out.block(1);
  for (const r of rows(t)) {
    const texts = cells(r)
      .map((c) => {
        const o = new Out();
        renderChildren(c, o, false);
        return o.toString().replace(/\s*\n+\s*/g, ' ');
      });
    if (texts.every((s) => s === '')) continue;
    out.block(1);
    out.write(texts.join(' | '));
    out.block(1);
  }
}

export function renderText(nodes: AnyNode[]): string {
  const out = new Out();
  for (const n of nodes) {
    renderNode(n, out, false);
    out.block(2);
  }
  return out.toString();
}
