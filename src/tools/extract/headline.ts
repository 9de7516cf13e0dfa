// The page's title, and the headline at the top of the chosen content.
import { similar } from './clean.ts';
import { type AnyNode, type Element, collapsedLength, findFirst, textOf } from './dom.ts';

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
  if (len > 300) return;
  for (const b of before) {
    const sibs = (b.parent as Element).children;
    sibs.splice(sibs.indexOf(b as never), 1);
    b.parent = null;
  }
}
