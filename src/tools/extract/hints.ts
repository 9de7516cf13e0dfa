// Class/id/role hints used to judge page blocks. General vocabulary of web page templates, not
// tuned to any particular site.
import type { Element } from './dom.ts';

/** Blocks that are almost never the article: chrome, ads, comments, consent and sign-up boxes. */
export const UNLIKELY =
  /-ad-|\bads?\b|ad-break|advert|agegate|ai2html|banner|breadcrumb|combx|comment|communit|consent|cookie|cover-wrap|disqus|extra|footer|gdpr|header|legends|menu|modal|newsletter|related|remark|replies|rss|shoutbox|sidebar|skyscraper|social|sponsor|supplemental|pagination|pager|paywall|popup|signup|subscribe|yom-remote|outbrain|taboola/i;

/**
 * Names news sites give to the box that holds the article for subscribers (paywall, premium,
 * metered, locked) and to the upsell beside it (promo). Both kinds look alike by name, so these
 * names only count against a block that holds little paragraph text (see lockedBody in index.ts).
 */
export const PAYWALL = /paywall|premium|promo|subscriber|metered|locked|paid-?content/i;
const PAYWALL_ALL = new RegExp(PAYWALL.source, 'gi');

/**
 * Article furniture: bylines, datelines, kickers, decks, picture credits, gallery counters, tag and
 * topic lists, author cards. Only short blocks with these names are dropped. (Captions are not
 * here: a single picture's caption is kept, as Readability keeps it; galleries go whole, clean.ts.)
 */
export const FURNITURE =
  /byline|by-line|author|dateline|timestamp|posted-on|published|kicker|eyebrow|overline|standfirst|\bdec?k\b|summary|subtitle|strapline|credit|copyright|counter|read-?time|\bdate|\btags?\b|tags-|topics|\bmeta\b|meta-/i;

/** A short block with a FURNITURE name is furniture when its text is under this many characters. */
export const FURNITURE_MAX_TEXT = 250;

/** UNLIKELY names of blocks that are never the article even when they hold running prose: comment
 *  threads, sidebars and related-story rails, page header and footer, consent and sign-up boxes,
 *  gallery legends.
 *  (The rest, such as "sponsor", "extra", "modal" or "-ad-", sometimes wrap the article itself.) */
export const NEVER_BODY = /comment|disqus|replies|remark|shoutbox|sidebar|related|footer|header|menu|breadcrumb|pagination|pager|rss|outbrain|taboola|consent|cookie|gdpr|newsletter|signup|agegate|legends/i;

/** ...unless the same name also says it holds the main content. */
export const MAYBE = /and|article|body|column|content|main|mathjax|shadow/i;

export const POSITIVE = /article|body|content|entry|hentry|h-entry|main|page|post|text|blog|story|prose/i;

export const NEGATIVE =
  /-ad-|hidden|^hid$| hid$| hid |^hid |banner|combx|comment|com-|contact|footer|gdpr|masthead|media|meta|outbrain|related|scroll|share|shoutbox|sidebar|skyscraper|sponsor|shopping|tags|widget|cookie|consent|newsletter|subscribe/i;

export const UNLIKELY_ROLES = new Set(['menu', 'menubar', 'complementary', 'navigation', 'alert', 'alertdialog', 'dialog']);

export const SHARE = /share|sharing|social/i;

const HIDDEN_STYLE = /display\s*:\s*none|visibility\s*:\s*hidden/i;

/** Class and id, plus the component name that component-built pages put in data attributes. */
export function matchString(e: Element): string {
  const a = e.attribs;
  const c = a.class;
  const id = a.id;
  let m = c && id ? `${c} ${id}` : (c ?? id ?? '');
  const comp = a['data-component'];
  if (comp) m = m ? `${m} ${comp}` : comp;
  return m;
}

/** +25 per positive hint in class and id, -25 per negative one. `locked`: the block holds the
 *  article's text, so paywall names do not count against it (they do otherwise: upsell boxes). */
export function classWeight(e: Element, locked = false): number {
  return nameWeight(e.attribs.class, locked) + nameWeight(e.attribs.id, locked);
}

function nameWeight(name: string | undefined, locked: boolean): number {
  if (!name) return 0;
  let w = 0;
  if (NEGATIVE.test(name)) w -= 25;
  else if (!locked && PAYWALL.test(name)) w -= 25;
  if (POSITIVE.test(name)) w += 25;
  return w;
}

/** Whether the name says unlikely only through paywall words (so it may hold the article). */
export function unlikelyOnlyByPaywall(m: string): boolean {
  const rest = m.replace(PAYWALL_ALL, ' ');
  return rest !== m && !UNLIKELY.test(rest);
}

export function isHidden(e: Element): boolean {
  const a = e.attribs;
  if ('hidden' in a) return true;
  if (a['aria-hidden'] === 'true' && !(a.class ?? '').includes('fallback-image')) return true;
  const style = a.style;
  return style !== undefined && HIDDEN_STYLE.test(style);
}
