// Streaming text of a page without building a tree: the fallback for pathological markup.
import { Parser } from 'htmlparser2';
import { BLOCK_TAGS } from './dom.ts';
import type { Readable } from './index.ts';

const FLAT_SKIP = new Set(['script', 'style', 'noscript', 'template', 'svg', 'head', 'nav', 'footer']);

/** Streaming text of a page, no tree: blocks become line breaks, non-content tags are skipped. */
export function flatText(html: string): Readable {
  let skip = 0;
  let title = '';
  let inTitle = false;
  const parts: string[] = [];
  const parser = new Parser({
    onopentagname(name) {
      if (FLAT_SKIP.has(name)) skip++;
      if (name === 'title') inTitle = true;
      if (BLOCK_TAGS.has(name)) parts.push('\n');
    },
    onclosetag(name) {
      if (FLAT_SKIP.has(name) && skip > 0) skip--;
      if (name === 'title') inTitle = false;
      if (BLOCK_TAGS.has(name)) parts.push('\n');
    },
    ontext(t) {
      if (inTitle) title += t;
      else if (skip === 0) parts.push(t);
    },
  });
  parser.write(html);
  parser.end();
  const text = parts
    .join('')
    .replace(/[ \t\u00a0]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return { title: title.replace(/\s+/g, ' ').trim(), text };
}

