// Block Kit for an answer's evidence: under the sources, one context block per source with the
// page's own sentences that support the answer's claims, then a note on unsupported claims and on
// quotes left for the trace file. Page text is hostile: escaped, mentions defused.
import { evidenceNote, quotesToShow } from '../../chat/claims.ts';
import type { AnswerView } from '../../chat/types.ts';
import type { Block } from './blocks.ts';
import { SAFETY_MARGIN, SLACK_LIMITS, SLACK_QUOTES } from './limits.ts';
import { defuseMentions, escapeMrkdwn, truncate } from './mrkdwn.ts';

/** Context blocks hold at most 10 elements. */
const CONTEXT_ELEMENTS = 10;

export function evidenceBlocks(answer: AnswerView): Block[] {
  if (!answer.claims?.length) return [];
  const { bySource, omitted } = quotesToShow(answer, SLACK_QUOTES);
  const blocks: Block[] = [];
  for (const s of answer.sources) {
    const quotes = bySource.get(s.n);
    if (!quotes?.length) continue;
    const elements = quotes.slice(0, CONTEXT_ELEMENTS).map((q) => ({
      type: 'mrkdwn',
      text: truncate(`*[${s.n}]* “${defuseMentions(escapeMrkdwn(q))}”`, SLACK_LIMITS.contextText - SAFETY_MARGIN),
    }));
    blocks.push({ type: 'context', elements });
  }
  const note = evidenceNote(answer, omitted);
  if (note) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: escapeMrkdwn(note) }] });
  return blocks;
}
