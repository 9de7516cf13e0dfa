// Rewrites the answer's citations (markdown links, <autolinks>, bare URLs) into [n], numbered in
// order of first use, and checks each against the sources ledger: a URL the model never saw is
// reported as 'unseen' and never as verified, whatever its link text claims.
import type { Citation } from './events.ts';
import { type SourcesLedger, urlKey } from './ledger.ts';

// [text](url "title") | <url> | bare url
const LINK = /\[([^\]\n]*)\]\((https?:\/\/[^\s)]+)(?:\s+"[^"]*")?\)|<(https?:\/\/[^\s>]+)>|(https?:\/\/[^\s<>()\[\]]+)/g;
/** Link texts that only point at a source (the citation number replaces them). */
const LABEL = /^\s*(?:\[?\d+\]?|source|sources|link|ref|reference|here|this|this page|cite|citation)?\s*$/i;

export interface RewrittenAnswer {
  text: string;
  citations: Citation[];
}

export function rewriteCitations(answer: string, ledger: SourcesLedger): RewrittenAnswer {
  const byKey = new Map<string, Citation>();
  const citations: Citation[] = [];
  const cite = (rawUrl: string, linkText: string): number => {
    const url = rawUrl.replace(/[.,;:!?'"]+$/, '');
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
    const trail = bareUrl ? bareUrl.slice(bareUrl.replace(/[.,;:!?'"]+$/, '').length) : '';
    return `[${cite(url, '')}]${trail}`;
  });
  // "[1][1]" or "[1], [1]" after rewriting: keep one.
  text = text.replace(/\[(\d+)\](?:[ ,]*\[\1\])+/g, '[$1]');
  // "([1])" -> "[1]"
  text = text.replace(/\((\[\d+\](?:[ ,]*\[\d+\])*)\)/g, '$1');
  return { text, citations };
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname.replace(/^www\./, '');
  } catch {
    return url;
  }
}
