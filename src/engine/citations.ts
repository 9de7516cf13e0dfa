// Rewrites the answer's citations (markdown links, <autolinks>, bare URLs) into [n], numbered in
// order of first use, and checks each against the sources ledger: a URL the model never saw is
// reported as 'unseen' and never as verified, whatever its link text claims.
import type { Citation } from './events.ts';
import { type SourcesLedger, urlKey } from './ledger.ts';

// [text](url "title") | <url> | bare url. URLs may hold balanced parentheses (Wikipedia's
// .../Foo_(bar)); an unbalanced ")" ends them, so "(see https://a.example/x)." cites /x.
const LINK =
  /\[([^\]\n]*)\]\((https?:\/\/(?:[^\s()]|\([^\s()]*\))+)(?:\s+"[^"]*")?\)|<(https?:\/\/[^\s>]+)>|(https?:\/\/(?:[^\s<>()[\]]|\([^\s<>()[\]]*\))+)/g;
/** Trailing characters that end a sentence or emphasis rather than the URL. */
const TRAIL = /[.,;:!?'"*]+$/;
// Reference-style links: definitions "[label]: url "title"" on their own lines, and uses
// "[text][label]", "[text][]" or "[label]" elsewhere.
const REF_DEF = /^ {0,3}\[([^\]\n]+)\]:[ \t]*<?(https?:\/\/[^\s>]+)>?(?:[ \t]+(?:"[^"\n]*"|'[^'\n]*'|\([^)\n]*\)))?[ \t]*$/gm;
const REF_USE = /\[([^\]\n]+)\](?:\[([^\]\n]*)\])?(?![(:])/g;
/** Link texts that only point at a source (the citation number replaces them). */
const LABEL = /^\s*(?:\[?\d+\]?|source|sources|link|ref|reference|here|this|this page|cite|citation)?\s*$/i;

export interface RewrittenAnswer {
  text: string;
  citations: Citation[];
}

/** Turns reference-style links into inline ones (and drops their definitions). */
function inlineReferences(answer: string): string {
  const defs = new Map<string, string>();
  const body = answer.replace(REF_DEF, (_whole, label: string, url: string) => {
    defs.set(label.trim().toLowerCase(), url);
    return '';
  });
  if (!defs.size) return answer;
  return body
    .replace(REF_USE, (whole, text: string, label: string | undefined) => {
      const url = defs.get((label || text).trim().toLowerCase());
      return url ? `[${text}](${url})` : whole;
    })
    .replace(/\n{3,}/g, '\n\n');
}

export function rewriteCitations(raw: string, ledger: SourcesLedger): RewrittenAnswer {
  const answer = inlineReferences(raw);
  const byKey = new Map<string, Citation>();
  const citations: Citation[] = [];
  const cite = (rawUrl: string, linkText: string): number => {
    const url = rawUrl.replace(TRAIL, '');
    const key = urlKey(url);
    const known = byKey.get(key);
    if (known) return known.n;
    const entry = ledger.get(url);
    const status = entry?.status ?? 'unseen';
    const title = entry?.title || (linkText && !LABEL.test(linkText) && linkText !== url ? linkText : hostOf(url));
    const c: Citation = { n: citations.length + 1, url: entry?.url ?? url, title, verified: status === 'read', status };
    byKey.set(key, c);
    citations.push(c);
    return c.n;
  };

  let text = answer.replace(LINK, (whole: string, linkText: string | undefined, mdUrl: string | undefined, angleUrl: string | undefined, bareUrl: string | undefined, offset: number) => {
    if (mdUrl) {
      const n = cite(mdUrl, linkText ?? '');
      const label = (linkText ?? '').trim();
      // "claim [Source title](url)." cites: the title goes to the sources list. A link the
      // sentence reads through ("according to [the BBC](url) the ...") keeps its words.
      const inSentence = /^ [a-z]/.test(answer.slice(offset + whole.length, offset + whole.length + 2));
      return LABEL.test(label) || label === mdUrl || !inSentence ? `[${n}]` : `${label} [${n}]`;
    }
    const url = angleUrl ?? bareUrl ?? whole;
    const trail = bareUrl ? bareUrl.slice(bareUrl.replace(TRAIL, '').length) : '';
    return `[${cite(url, '')}]${trail}`;
  });
  // "[1][1]" or "[1], [1]" after rewriting: keep one.
  text = text.replace(/\[(\d+)\](?:[ ,]*\[\1\])+/g, '[$1]');
  // "([1])" -> "[1]"
  text = text.replace(/\((\[\d+\](?:[ ,]*\[\d+\])*)\)/g, '$1');
  return { text: dropTrailingSourceList(text), citations };
}

const CITATION_ONLY = /^\s*(?:[-*•]|\d+[.)])?\s*(?:\[\d+\][\s,;.]*)+$/;
const SOURCES_HEADING = /^\s*(?:#+\s*)?(?:\*\*|__)?(?:sources?|references?|citations?|bibliography)(?:\*\*|__)?\s*:?\s*(?:\*\*|__)?\s*$/i;

/**
 * A "Sources:" list the model wrote at the end becomes lines of bare [n] after rewriting; every
 * surface lists the sources itself, so such a tail is dropped.
 */
function dropTrailingSourceList(text: string): string {
  const lines = text.replace(/\s+$/, '').split('\n');
  let end = lines.length;
  while (end > 0 && (CITATION_ONLY.test(lines[end - 1]) || lines[end - 1].trim() === '')) end--;
  // A heading left alone at the end (its list was rewritten away, or was reference definitions).
  if (end > 0 && SOURCES_HEADING.test(lines[end - 1])) end--;
  if (end === lines.length) return text;
  const kept = lines.slice(0, end).join('\n').replace(/\s+$/, '');
  return kept || text;
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname.replace(/^www\./, '');
  } catch {
    return url;
  }
}
