// Class/id/role hints used to judge page blocks. General vocabulary of web page templates, not
// tuned to any particular site.
import type { Element } from './dom.ts';

/** Blocks that are almost never the article: chrome, ads, comments, consent and sign-up boxes. */
export const UNLIKELY =
  /-ad-|\bads?\b|ad-break|advert|agegate|ai2html|banner|breadcrumb|combx|comment|communit|consent|cookie|cover-wrap|disqus|extra|footer|gdpr|header|legends|menu|modal|newsletter|related|remark|replies|rss|shoutbox|sidebar|skyscraper|social|sponsor|supplemental|pagination|pager|paywall|popup|signup|subscribe|yom-remote|outbrain|taboola/i;

/** ...unless the same name also says it holds the main content. */
export const MAYBE = /and|article|body|column|content|main|mathjax|shadow/i;

export const POSITIVE = /article|body|content|entry|hentry|h-entry|main|page|post|text|blog|story|prose/i;

export const NEGATIVE =
  /-ad-|hidden|^hid$| hid$| hid |^hid |banner|combx|comment|com-|contact|footer|gdpr|masthead|media|meta|outbrain|promo|related|scroll|share|shoutbox|sidebar|skyscraper|sponsor|shopping|tags|widget|cookie|consent|newsletter|subscribe/i;

export const UNLIKELY_ROLES = new Set(['menu', 'menubar', 'complementary', 'navigation', 'alert', 'alertdialog', 'dialog']);

export const SHARE = /share|sharing|social/i;

const HIDDEN_STYLE = /display\s*:\s*none|visibility\s*:\s*hidden/i;

export function matchString(e: Element): string {
  const c = e.attribs.class;
  const id = e.attribs.id;
  if (c && id) return `${c} ${id}`;
  return c ?? id ?? '';
}

/** +25 per positive hint in class and id, -25 per negative one. */
export function classWeight(e: Element): number {
  let w = 0;
  const c = e.attribs.class;
  if (c) {
    if (NEGATIVE.test(c)) w -= 25;
    if (POSITIVE.test(c)) w += 25;
  }
  const id = e.attribs.id;
  if (id) {
    if (NEGATIVE.test(id)) w -= 25;
    if (POSITIVE.test(id)) w += 25;
  }
  return w;
}

export function isHidden(e: Element): boolean {
  const a = e.attribs;
  if ('hidden' in a) return true;
  if (a['aria-hidden'] === 'true' && !(a.class ?? '').includes('fallback-image')) return true;
  const style = a.style;
  return style !== undefined && HIDDEN_STYLE.test(style);
}
