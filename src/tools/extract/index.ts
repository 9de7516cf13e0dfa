// Readable text of an HTML page. Scores blocks of text by length, commas, link density and
// class/id hints, takes the best subtree plus related siblings, cleans it, renders it as text.
// Runs directly on the htmlparser2 tree (a few linear passes) for speed.
import type { Document } from 'domhandler';
import { parseDocument } from 'htmlparser2';
import { DEFAULT_HTML_CAPS, type HtmlCaps, parseWithinCaps, tokenText, withinCaps } from './caps.ts';
import { cleanContent, isClutter } from './clean.ts';
import { findTitle, trimBeforeHeadline } from './headline.ts';
import { flatText } from './flat.ts';
import {
  type AnyNode,
  type Element,
  BLOCK_TAGS,
  collapsedLength,
  countCommas,
  findAll,
  findFirst,
  isElement,
  isText,
  textOf,
} from './dom.ts';
import {
  NEVER_BODY, FURNITURE, FURNITURE_MAX_TEXT, MAYBE, PAYWALL, UNLIKELY, UNLIKELY_ROLES, classWeight, isHidden, matchString, unlikelyOnlyByPaywall,
} from './hints.ts';
import { renderText } from './render.ts';
import { isHeading, paragraphText, textParts, textWithin } from './walk.ts';

export interface Readable {
  title: string;
  text: string;
}

interface Flags {
  stripUnlikely: boolean;
  weightClasses: boolean;
  cleanConditionally: boolean;
  /** Take the page's main landmark (main, role=main, article) instead of the best-scoring block. */
  landmark?: boolean;
}

const DROP = new Set(['script', 'style', 'noscript', 'template', 'svg', 'iframe', 'object', 'embed', 'canvas',
  'input', 'button', 'select', 'textarea', 'link', 'meta', 'nav', 'footer', 'aside', 'head', 'dialog', 'menu']);
const PARAGRAPH_TAGS = new Set(['p', 'pre', 'td', 'h2', 'h3', 'h4', 'h5', 'h6']);
/** Inline runs inside these containers are treated as paragraphs of their own. */
const CONTAINER_TAGS = new Set(['div', 'section', 'article', 'main', 'center', 'body', 'blockquote', 'form', 'span', 'font']);
const MIN_PARAGRAPH = 25;
const CHAR_THRESHOLD = 500;

interface Stats {
  text: number;
  link: number;
  commas: number;
}

/** Per-attempt working state. */
class Page {
  readonly stats = new Map<Element, Stats>();
  readonly scores = new Map<Element, number>();
  private readonly locked = new Map<Element, boolean>();
  private readonly proseCache = new Map<Element, boolean>();
  readonly flags: Flags;
  constructor(flags: Flags) {
    this.flags = flags;
  }

  /** Removes hidden, non-content and (optionally) unlikely blocks. */
  prune(n: Element, inTable: boolean, inCode: boolean): void {
    const kids = n.children;
    for (let i = kids.length - 1; i >= 0; i--) {
      const c = kids[i];
      if (!isElement(c)) {
        if (c.type === 'comment' || c.type === 'directive') kids.splice(i, 1);
        continue;
      }
      if (this.shouldDrop(c, inTable, inCode)) {
        kids.splice(i, 1);
        c.parent = null;
        continue;
      }
      this.prune(c, inTable || c.name === 'table', inCode || c.name === 'code' || c.name === 'pre');
    }
  }

  private shouldDrop(e: Element, inTable: boolean, inCode: boolean): boolean {
    const tag = e.name;
    if (DROP.has(tag)) return true;
    if (isHidden(e)) return true;
    const role = e.attribs.role;
    if (role && UNLIKELY_ROLES.has(role)) return true;
    if (!this.flags.stripUnlikely || inTable || inCode || tag === 'body' || tag === 'a' || tag === 'html') return false;
    if (tag === 'article' || tag === 'main') return false;
    const m = matchString(e);
    if (m === '') return false;
    // Bylines, datelines, decks, credits: named so, and short (a wrapper so named that holds the
    // article is long and stays).
    if (FURNITURE.test(m) && !isHeading(tag) && textWithin(e, FURNITURE_MAX_TEXT) < FURNITURE_MAX_TEXT) return true;
    if (!UNLIKELY.test(m) || MAYBE.test(m)) return false;
    // "paywall" names both the subscribers' box holding the article and the upsell: keep the former.
    if (unlikelyOnlyByPaywall(m) && this.lockedBody(e)) return false;
    // Names lie more than text does: a block of running prose is kept whatever it is called,
    // unless the name is one that never holds the article (a comment thread is prose too).
    return NEVER_BODY.test(m) || !this.prose(e);
  }

  /** Whether `e` reads as running text: 300+ characters of <p> text making up nearly all of its
   *  text, and almost no links (upsells, teaser grids and link lists fail this). Bounded walk. */
  prose(e: Element): boolean {
    let v = this.proseCache.get(e);
    if (v === undefined) {
      const t = { text: 0, p: 0, link: 0, budget: 4000 };
      textParts(e, t, false, false);
      v = t.budget >= 0 && t.p >= 300 && t.p >= 0.85 * t.text && t.link <= 0.1 * t.text;
      this.proseCache.set(e, v);
    }
    return v;
  }

  /** Whether `e` holds article paragraphs (150+ characters of <p> text: more than an upsell's
   *  sentence or two; a teaser before the paywall can be one paragraph), looked at up to a bound. */
  lockedBody(e: Element): boolean {
    let v = this.locked.get(e);
    if (v === undefined) {
      v = paragraphText(e, 150, { budget: 4000 }) >= 150;
      this.locked.set(e, v);
    }
    return v;
  }

  /** Bottom-up text/link/comma counts for every element. */
  measure(n: Element, inLink: boolean): Stats {
    const s: Stats = { text: 0, link: 0, commas: 0 };
    const link = inLink || n.name === 'a';
    for (const c of n.children) {
      if (isText(c)) {
        const len = collapsedLength(c.data);
        if (len) {
          s.text += len + 1;
          if (link) s.link += len + 1;
          s.commas += countCommas(c.data);
        }
      } else if (isElement(c)) {
        const cs = this.measure(c, link);
        s.text += cs.text;
        s.link += cs.link;
        s.commas += cs.commas;
      }
    }
    this.stats.set(n, s);
    return s;
  }

  stat(e: Element): Stats {
    return this.stats.get(e) ?? { text: 0, link: 0, commas: 0 };
  }

  linkDensity(e: Element): number {
    const s = this.stat(e);
    return s.text ? s.link / s.text : 0;
  }

  weight(e: Element): number {
    if (!this.flags.weightClasses) return 0;
    let w = classWeight(e);
    if (w >= 0) return w;
    const m = matchString(e);
    if (PAYWALL.test(m) && this.lockedBody(e)) w = classWeight(e, true);
    // as in prune: a negative name does not count against running prose, unless it never is the article
    return w < 0 && !NEVER_BODY.test(m) && this.prose(e) ? 0 : w;
  }

  private initScore(e: Element): number {
    let base = 0;
    switch (e.name) {
      case 'div': base = 5; break;
      case 'pre': case 'td': case 'blockquote': base = 3; break;
      case 'address': case 'ol': case 'ul': case 'dl': case 'dd': case 'dt': case 'li': case 'form': base = -3; break;
      case 'h1': case 'h2': case 'h3': case 'h4': case 'h5': case 'h6': case 'th': base = -5; break;
    }
    return base + this.weight(e);
  }

  /** Credits a paragraph of `len` chars and `commas` commas to `from` and its ancestors. */
  private credit(from: Element | null, len: number, commas: number): void {
    const score = 1 + commas + Math.min(Math.floor(len / 100), 3);
    let e = from;
    for (let level = 0; e && level < 5; level++) {
      if (e.type === 'tag' && e.name !== 'html') {
        let cur = this.scores.get(e);
        if (cur === undefined) cur = this.initScore(e);
        const div = level === 0 ? 1 : level === 1 ? 2 : level * 3;
        this.scores.set(e, cur + score / div);
      }
      e = e.parent && isElement(e.parent) ? e.parent : null;
    }
  }

  /** Finds paragraphs and credits their ancestors. */
  score(n: Element): void {
    const tag = n.name;
    if (PARAGRAPH_TAGS.has(tag)) {
      const s = this.stat(n);
      if (s.text >= MIN_PARAGRAPH) this.credit(n.parent as Element | null, s.text, s.commas);
      // still look inside: a td or section can hold real paragraphs
      if (tag === 'p' || tag === 'pre' || tag[0] === 'h') return;
    } else if (CONTAINER_TAGS.has(tag)) {
      this.scoreInlineRuns(n);
    }
    for (const c of n.children) if (isElement(c)) this.score(c);
  }

  /** Runs of inline content directly in a container (split by blocks and double <br>). */
  private scoreInlineRuns(n: Element): void {
    const runs: { len: number; commas: number }[] = [];
    let len = 0;
    let commas = 0;
    let brs = 0;
    let hasBlock = false;
    const flush = () => {
      if (len >= MIN_PARAGRAPH) runs.push({ len, commas });
      len = 0;
      commas = 0;
    };
    for (const c of n.children) {
      if (isText(c)) {
        const l = collapsedLength(c.data);
        if (l) {
          len += l + 1;
          commas += countCommas(c.data);
          brs = 0;
        }
      } else if (isElement(c)) {
        if (c.name === 'br') {
          if (++brs >= 2) flush();
        } else if (BLOCK_TAGS.has(c.name)) {
          hasBlock = true;
          brs = 0;
          flush();
        } else {
          const s = this.stat(c);
          len += s.text;
          commas += s.commas;
          if (s.text) brs = 0;
        }
      }
    }
    flush();
    if (runs.length === 0) return;
    if (runs.length === 1 && !hasBlock) {
      // the whole container reads as one paragraph
      if (this.linkDensity(n) < 0.5 || n.name !== 'div') this.credit(n.parent as Element | null, runs[0].len, runs[0].commas);
      return;
    }
    for (const r of runs) this.credit(n, r.len, r.commas);
  }

  /** The best-scoring candidate after link-density scaling. */
  top(): Element | null {
    let best: Element | null = null;
    let bestScore = -Infinity;
    const finals: [Element, number][] = [];
    for (const [e, s] of this.scores) {
      const f = s * (1 - this.linkDensity(e));
      this.scores.set(e, f);
      finals.push([e, f]);
      if (f > bestScore) {
        bestScore = f;
        best = e;
      }
    }
    if (!best) return null;
    // If several strong candidates sit under one ancestor, the ancestor is the article.
    finals.sort((a, b) => b[1] - a[1]);
    const strong = finals.slice(1, 5).filter(([, s]) => s / bestScore >= 0.75).map(([e]) => e);
    if (strong.length >= 3) {
      let anc = best.parent as Element | null;
      while (anc && anc.name !== 'body' && anc.type === 'tag') {
        const inside = strong.filter((e) => contains(anc as Element, e)).length;
        if (inside >= 3) {
          best = anc;
          break;
        }
        anc = anc.parent as Element | null;
      }
    }
    // An ancestor that scores higher than the candidate (from paragraphs around it) is the article.
    let last = this.scores.get(best) ?? bestScore;
    const floor = last / 3;
    for (let anc = best.parent as Element | null; anc && anc.type === 'tag' && anc.name !== 'body'; anc = anc.parent as Element | null) {
      const s = this.scores.get(anc);
      if (s === undefined) continue;
      if (s < floor) break;
      if (s > last) {
        best = anc;
        break;
      }
      last = s;
    }
    // A candidate that is the only element child of its parent: the parent holds the same content.
    while (best.parent && isElement(best.parent) && best.parent.name !== 'body' && best.parent.name !== 'html') {
      const els = best.parent.children.filter(isElement);
      if (els.length !== 1) break;
      best = best.parent;
    }
    return best;
  }

  /** Siblings of the top candidate that look like part of the same article. */
  gather(top: Element): Element[] {
    const parent = top.parent;
    if (!parent || !isElement(parent)) return [top];
    const topScore = this.scores.get(top) ?? 0;
    const threshold = Math.max(10, topScore * 0.2);
    const topClass = top.attribs.class ?? '';
    const out: Element[] = [];
    for (const s of parent.children) {
      if (!isElement(s)) continue;
      if (s === top) {
        out.push(s);
        continue;
      }
      let bonus = 0;
      if (topClass !== '' && s.attribs.class === topClass) bonus += topScore * 0.2;
      const sc = this.scores.get(s);
      if (sc !== undefined && sc + bonus >= threshold) {
        out.push(s);
        continue;
      }
      // Articles split into same-class blocks (by figures, ads) whose text sits too deep to score.
      if (bonus > 0 && s.name === top.name && this.stat(s).text >= 50 && this.linkDensity(s) < 0.3) {
        out.push(s);
        continue;
      }
      // A body split into sibling blocks (by ads, promos, a paywall): a block that is nearly all
      // paragraph text, with few links, is more of the article even when it scores low alone.
      if (s.name !== 'p' && this.weight(s) >= 0 && this.stat(s).text >= 100 && this.linkDensity(s) < 0.2
        && paragraphText(s, Infinity, { budget: 4000 }) >= 0.8 * this.stat(s).text) {
        out.push(s);
        continue;
      }
      if (s.name === 'p' || (s.name === 'div' && !hasBlockChild(s))) {
        const st = this.stat(s);
        const ld = this.linkDensity(s);
        if (st.text > 80 && ld < 0.25) out.push(s);
        else if (st.text > 0 && st.text <= 80 && ld === 0 && /\.( |$)/.test(textOf(s))) out.push(s);
      }
    }
    return out;
  }
}

function hasBlockChild(e: Element): boolean {
  return e.children.some((c) => isElement(c) && BLOCK_TAGS.has(c.name) && c.name !== 'br');
}

function contains(anc: Element, e: AnyNode): boolean {
  for (let p = e.parent; p; p = p.parent) if (p === anc) return true;
  return false;
}

function attempt(html: string, flags: Flags, parsed?: Document): Readable & { length: number } {
  const doc = parsed ?? parseDocument(html);
  const title = findTitle(doc);
  const body = findFirst(doc, (e) => e.name === 'body') ?? findFirst(doc, (e) => e.name === 'html');
  if (!body) {
    const text = renderText(doc.children);
    return { title, text, length: text.length };
  }
  const page = new Page(flags);
  page.prune(body, false, false);
  page.measure(body, false);
  let nodes: Element[];
  let top: Element | null = null;
  if (flags.landmark) {
    const marks = findAll(body, (e) => e.name === 'main' || e.name === 'article' || e.attribs.role === 'main');
    const largest = marks.sort((a, b) => page.stat(b).text - page.stat(a).text)[0];
    if (!largest) return { title, text: '', length: 0 };
    nodes = [largest];
  } else {
    page.score(body);
    top = page.top();
    nodes = !top || top.name === 'body' || top.name === 'html' ? [body] : page.gather(top);
  }

  if (flags.stripUnlikely) trimBeforeHeadline(nodes, title);
  for (const n of nodes) cleanContent(page, n, title);
  // Gathered siblings are judged whole too, after their own insides are cleaned; the top stays.
  if (nodes.length > 1) nodes = nodes.filter((n) => n === top || !isClutter(page, n, title));
  // clean() may have removed a whole node's content; keep what is still attached.
  const text = renderText(nodes.filter((n) => n === body || n.parent));
  return { title, text, length: text.length };
}

/** Title and readable plain text of an HTML page. `baseUrl` is accepted for future link handling. */
export function extractReadable(html: string, _baseUrl?: string, caps: HtmlCaps = DEFAULT_HTML_CAPS): Readable {
  try {
    // Too deep or too big for a tree in reasonable time (see caps.ts): read it linearly. A page
    // past 1 MB is checked by the tokenizer first, so a page of a million elements is not built
    // up to the element cap only to be thrown away; a smaller one is checked by its own parse.
    const doc = html.length > 1_000_000 && !withinCaps(html, caps) ? null : parseWithinCaps(html, caps);
    if (!doc) return tokenText(html);
    return extractScored(html, doc);
  } catch (err) {
    // Pathological trees (tens of thousands of nested tags) exhaust the stack: read them flat.
    if (err instanceof RangeError) return flatText(html);
    throw err;
  }
}

/** `doc`: the page's tree, already parsed within the caps, for the first attempt (each attempt
 *  changes its tree, so the others parse again). */
function extractScored(html: string, doc: Document): Readable {
  const order: Flags[] = [
    { stripUnlikely: true, weightClasses: true, cleanConditionally: true },
    { stripUnlikely: false, weightClasses: true, cleanConditionally: true },
    { stripUnlikely: false, weightClasses: false, cleanConditionally: true },
    { stripUnlikely: false, weightClasses: false, cleanConditionally: false },
  ];
  let best: (Readable & { length: number }) | null = null;
  let first: Document | undefined = doc;
  for (const flags of order) {
    const r = attempt(html, flags, first);
    first = undefined;
    if (r.length >= CHAR_THRESHOLD) return { title: r.title, text: r.text };
    if (!best || r.length > best.length) best = r;
  }
  // Nothing article-like scored well (landing pages, feature grids): a declared main region,
  // if the page has one, holds more of what the page says.
  const mark = attempt(html, { stripUnlikely: true, weightClasses: false, cleanConditionally: true, landmark: true });
  if (mark.length > best!.length) best = mark;
  return { title: best!.title, text: best!.text };
}
