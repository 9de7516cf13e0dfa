// The page's title, and the headline at the top of the chosen content.
import { similar } from './clean.ts';
import { type AnyNode, type Element, collapsedLength, findFirst, isElement, textOf } from './dom.ts';
import { paragraphText } from './walk.ts';

/** og:title or twitter:title, else <title>, else the first <h1>. */
export function findTitle(doc: AnyNode): string {
  const meta = findFirst(doc, (e) => e.name === 'meta' && /^(og:title|twitter:title)$/i.test(e.attribs.property ?? e.attribs.name ?? ''));
  const og = meta?.attribs.content?.trim();
  if (og) return og.replace(/\s+/g, ' ');
  const t = findFirst(doc, (e) => e.name === 'title');
  const title = t ? textOf(t).replace(/\s+/g, ' ').trim() : '';
  if (title) return title;
  const h1 = findFirst(doc, (e) => e.name === 'h1');
  return h1 ? textOf(h1).replace(/\s+/g, ' ').trim() : '';
}

/**
 * Removes what comes before the headline inside the chosen content (kickers, section labels,
 * breadcrumbs): the body starts after it. Only when the headline repeats the title and what
 * precedes it is short, so a page using <h1> for its sections keeps them.
 */
export function trimBeforeHeadline(nodes: Element[], title: string): void {
  let h1: Element | null = null;
  for (const n of nodes) if ((h1 = findFirst(n, (e) => e.name === 'h1'))) break;
  if (!h1 || !title || !similar(textOf(h1), title)) return;
  const before: AnyNode[] = [];
  for (let e: AnyNode = h1; e.parent && !nodes.includes(e as Element); e = e.parent) {
    const sibs = (e.parent as Element).children;
    for (const s of sibs.slice(0, sibs.indexOf(e as never))) before.push(s);
  }
  const len = before.reduce((n, b) => n + collapsedLength(textOf(b)), 0);
  if (len <= 300) before.forEach(detach);
  const root = nodes.find((n) => n === h1 || contains(n, h1 as Element));
  if (root) trimHeaderGroup(root, h1);
}

/**
 * The headline's group (deck, byline, dateline, lead picture, share bar) when the body is a block
 * of its own after it: the nearest ancestor of the headline with a later child holding most of
 * the paragraph text marks the body; the short blocks between the headline and it, and the
 * headline's own container when short, are the header. A flat article (headline, then its
 * paragraphs as siblings) has no such block and keeps everything.
 */
function trimHeaderGroup(root: Element, h1: Element): void {
  const total = paragraphText(root, Infinity, { budget: 20_000 });
  if (total < 300) return;
  for (let hc: Element = h1; hc !== root && hc.parent && isElement(hc.parent); hc = hc.parent) {
    const kids = hc.parent.children;
    const i = kids.indexOf(hc);
    const j = kids.findIndex((k, n) => n > i && isElement(k) && paragraphText(k, Infinity, { budget: 20_000 }) >= 0.6 * total);
    if (j < 0) continue;
    const between = kids.slice(i + 1, j).filter((k) => collapsedLength(textOf(k)) < 300);
    if (hc !== h1 && collapsedLength(textOf(hc)) < 600) between.push(hc);
    between.forEach(detach);
    return;
  }
}

function contains(anc: Element, e: Element): boolean {
  for (let p = e.parent; p; p = p.parent) if (p === anc) return true;
  return false;
}

function detach(n: AnyNode): void {
  const sibs = (n.parent as Element).children;
  sibs.splice(sibs.indexOf(n as never), 1);
  n.parent = null;
}
