// Bounded walks over a subtree: how much text, paragraph text and link text a block holds, looked
// at only as far as a decision needs (the prune and weight checks run on many blocks).
import { type Element, collapsedLength, isElement, isText } from './dom.ts';

export function isHeading(tag: string): boolean {
  return tag.length === 2 && tag[0] === 'h' && tag[1] >= '1' && tag[1] <= '6';
}

/** Collapsed text length of `e`, counted only up to `limit` (so the walk stays short). */
export function textWithin(e: Element, limit: number): number {
  let n = 0;
  let visits = 0;
  const walk = (x: Element): void => {
    for (const c of x.children) {
      if (n >= limit || ++visits > 2000) {
        n = Math.max(n, limit); // too big to be furniture
        return;
      }
      if (isText(c)) n += collapsedLength(c.data);
      else if (isElement(c)) walk(c);
    }
  };
  walk(e);
  return n;
}

/** Adds up all text, <p> text and link text under `e`, spending one unit of budget a node. */
export function textParts(e: Element, t: { text: number; p: number; link: number; budget: number }, inP: boolean, inA: boolean): void {
  for (const c of e.children) {
    if (--t.budget < 0) return;
    if (isText(c)) {
      const l = collapsedLength(c.data);
      t.text += l;
      if (inP) t.p += l;
      if (inA) t.link += l;
    } else if (isElement(c)) textParts(c, t, inP || c.name === 'p', inA || c.name === 'a');
  }
}

/** Text inside <p> descendants of `e`, counted up to `limit`, visiting at most `budget` nodes. */
export function paragraphText(e: Element, limit: number, b: { budget: number }, inP = false): number {
  let n = 0;
  for (const c of e.children) {
    if (n >= limit || --b.budget < 0) return n;
    if (isText(c)) {
      if (inP) n += collapsedLength(c.data);
    } else if (isElement(c)) n += paragraphText(c, limit - n, b, inP || c.name === 'p');
  }
  return n;
}
