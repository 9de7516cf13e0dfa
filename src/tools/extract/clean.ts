// Cleans the chosen content: removes link lists, widgets, media boxes and share bars that sit
// inside the article, keeping data tables and code.
import { type Element, collapsedLength, countCommas, findAll, findFirst, isElement, textOf } from './dom.ts';
import { SHARE, matchString } from './hints.ts';

export interface CleanContext {
  readonly flags: { stripUnlikely: boolean; cleanConditionally: boolean };
  stat(e: Element): { text: number };
  linkDensity(e: Element): number;
  weight(e: Element): number;
}

/** Removes link lists, widgets and media boxes left inside the chosen content. */
export function cleanContent(page: CleanContext, root: Element, title: string): void {
  cleanNode(page, root, false, title);
}

/** Whether a sibling gathered beside the top candidate would itself be cleaned away (a sign-up
 *  box or link list next to the body is judged like one inside it). */
export function isClutter(page: CleanContext, e: Element, title: string): boolean {
  return shouldRemove(page, e, false, e.name === 'table' && isDataTable(e), title);
}

function cleanNode(page: CleanContext, n: Element, inDataTable: boolean, title: string): void {
  const kids = n.children;
  for (let i = kids.length - 1; i >= 0; i--) {
    const c = kids[i];
    if (!isElement(c)) continue;
    const dataTable = inDataTable || (c.name === 'table' && isDataTable(c));
    cleanNode(page, c, dataTable, title);
    if (shouldRemove(page, c, inDataTable, dataTable, title)) {
      kids.splice(i, 1);
      c.parent = null;
    }
  }
}

function shouldRemove(page: CleanContext, e: Element, inDataTable: boolean, isData: boolean, title: string): boolean {
  const tag = e.name;
  if (tag === 'h1' || tag === 'h2') {
    if (page.weight(e) < 0) return true;
    if (title && similar(textOf(e), title)) return true;
    return false;
  }
  const m = matchString(e);
  if (m && SHARE.test(m) && page.stat(e).text < 500 && page.flags.stripUnlikely) return true;
  // An ad slot's label ("Advertisement", "Story continues below advertisement") or a gallery's
  // counter ("Image 3 of 8") is all the block says.
  if (page.stat(e).text < 60 && LABEL_ONLY.test(textOf(e))) return true;
  // A byline or a dateline on its own line, recognised by its text when no name gives it away.
  if (META_LINE_TAGS.has(tag) && page.stat(e).text < 100 && isMetaLine(textOf(e))) return true;
  if (!page.flags.cleanConditionally) return false;
  if (tag !== 'div' && tag !== 'ul' && tag !== 'ol' && tag !== 'table' && tag !== 'form' && tag !== 'fieldset' && tag !== 'section') return false;
  if (isData || inDataTable) return false;
  if (hasAncestor(e, 'code') || hasAncestor(e, 'pre')) return false;
  const weight = page.weight(e);
  if (weight < 0) return true;
  const text = textOf(e);
  if (countCommas(text) >= 10) return false;
  const counts = countTags(e);
  const p = counts.p;
  const img = counts.img;
  const isList = tag === 'ul' || tag === 'ol' || counts.listText > 0.9 * collapsedLength(text);
  const ld = page.linkDensity(e);
  const len = collapsedLength(text);
  const headingDensity = len ? counts.headingText / len : 0;
  if (img > 1 && p / img < 0.5 && !hasAncestor(e, 'figure')) return true;
  // A gallery: several figures with only captions, counters and credits between them. (Several
  // bare images with a line each are more often a feature list or steps: those stay.)
  if (counts.figure >= 3 && img >= 3 && len / img < 160) return true;
  // A sign-up or search box: a form and a few words around it.
  if (counts.form > 0 && len < 400) return true;
  // An upsell or paywall prompt: a few sentences around a "Subscribe" / "Sign in" link.
  if (len < 300 && ld > 0 && findFirst(e, (a) => a.name === 'a' && CALL_TO_ACTION.test(textOf(a)))) return true;
  // A titled box of short linked items ("Related", "More on this story", topic lists). An untitled
  // list of links stays: in a body it is usually the content (changelogs, references).
  if (isList && tag !== 'ul' && tag !== 'ol' && counts.headingText > 0 && ld > 0.5 && counts.li > 0 && len / counts.li < 120) return true;
  // (a block with more list items than paragraphs is only suspicious when the items are links,
  // which the link-density rules below catch)
  if (counts.input > Math.floor(p / 3)) return true;
  if (!isList && headingDensity < 0.9 && len < 25 && (img === 0 || img > 2) && ld > 0) return true;
  if (!isList && weight < 25 && ld > 0.2) return true;
  if (weight >= 25 && ld > 0.5) return true;
  if ((counts.embed === 1 && len < 75) || counts.embed > 1) return true;
  // (an emptied form stays: it tells its parent block that it is a sign-up or search box)
  if (img === 0 && len === 0 && tag !== 'form') return true;
  return false;
}

const LABEL_ONLY = /^\s*(advertisement|advertising|sponsored( content)?|ad|(story|article) continues below( advertisement)?|(image|photo|picture|slide) \d+ (of|\/) \d+)\s*$/i;

/** The whole text of an upsell's link or button. */
const CALL_TO_ACTION = /^\s*(subscribe( now| today)?|sign (in|up)( now)?|log ?in|register( now)?|become a (member|subscriber)|join( now| us| today)?|donate( now)?|support us|start (your )?free trial)\s*$/i;

/** "By Ana Ruiz, Political Reporter": a capitalised name after "by" (or its equivalents). */
const BYLINE_TEXT = /^([Bb]y|BY|[Pp]or|[Vv]on|[Pp]ar|[Dd]oor)\s+\p{Lu}[\p{L}.'’-]*(\s|,|$)/u;
const META_HINT = /^\s*[BbPpVvDd]|\d/;
/** Where a byline or dateline stands on its own (not an inline link or emphasis in a sentence). */
const META_LINE_TAGS = new Set(['p', 'div', 'span', 'time', 'small', 'address', 'header', 'section']);
const MONTH = /\b(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sep(t|tember)?|oct(ober)?|nov(ember)?|dec(ember)?)\b/i;

/** A short line that is only a byline or a date (with "Updated", a time, a place before it). */
function isMetaLine(raw: string): boolean {
  if (!META_HINT.test(raw)) return false; // cheap first: a byline starts with "by" (or so), a date has digits
  const t = raw.replace(/\s+/g, ' ').trim();
  if (t === '' || /[.!?:;"”]$/.test(t)) return false; // sentences end so; names and dates do not
  if (BYLINE_TEXT.test(t) && t.split(' ').length <= 12) return true;
  return t.length < 60 && /\b(19|20)\d\d\b/.test(t) && MONTH.test(t) && t.split(' ').length <= 8;
}

function hasAncestor(e: Element, tag: string): boolean {
  for (let p = e.parent; p; p = p.parent) if (isElement(p) && p.name === tag) return true;
  return false;
}

function countTags(e: Element) {
  const c = { p: 0, img: 0, figure: 0, li: 0, input: 0, form: 0, embed: 0, headingText: 0, listText: 0 };
  const walk = (n: Element) => {
    for (const k of n.children) {
      if (!isElement(k)) continue;
      switch (k.name) {
        case 'p': c.p++; break;
        case 'img': c.img++; break;
        case 'li': c.li++; break;
        case 'input': c.input++; break;
        case 'form': c.form++; break;
        case 'figure': c.figure++; break;
        case 'embed': case 'object': case 'iframe': case 'video': c.embed++; break;
        case 'h1': case 'h2': case 'h3': case 'h4': case 'h5': case 'h6': c.headingText += collapsedLength(textOf(k)); break;
        case 'ul': case 'ol': c.listText += collapsedLength(textOf(k)); break;
      }
      walk(k);
    }
  };
  walk(e);
  return c;
}

function isDataTable(t: Element): boolean {
  if (t.attribs.role === 'presentation' || t.attribs.datatable === '0') return false;
  if (t.attribs.summary) return true;
  if (findFirst(t, (e) => e !== t && e.name === 'table')) return false;
  if (findFirst(t, (e) => e.name === 'caption' || e.name === 'th' || e.name === 'thead' || e.name === 'tfoot' || e.name === 'colgroup')) return true;
  const rows = findAll(t, (e) => e.name === 'tr');
  let cols = 0;
  for (const r of rows) cols = Math.max(cols, r.children.filter((c) => isElement(c) && (c.name === 'td' || c.name === 'th')).length);
  if (rows.length >= 10 || cols > 4) return true;
  return rows.length * cols > 10;
}

function words(s: string): string[] {
  return s.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
}

/** True when a heading says the same thing as the title. */
export function similar(a: string, b: string): boolean {
  const wa = words(a);
  const wb = new Set(words(b));
  if (wa.length === 0 || wb.size === 0) return false;
  const shared = wa.filter((w) => wb.has(w)).length;
  return shared / Math.max(wa.length, wb.size) >= 0.75;
}

