// Markdown (as the model writes it) -> Slack mrkdwn, plus the text helpers the renderer needs:
// escaping, truncation and splitting that never cuts a code block or a link in half.

/** Slack requires &, < and > escaped in message text; everything else is literal. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * For text we cannot entity-escape because Slack may show it as plain text (streamed task fields):
 * a zero-width space breaks `<!channel>`, `<@U…>`, `<#C…>` and `@here`-style words without
 * changing what a person reads.
 */
export function defuseMentions(text: string): string {
  return text.replace(/<([!@#])/g, '<\u200b$1').replace(/@(channel|here|everyone)\b/gi, '@\u200b$1');
}

/**
 * For page and model text shown in streamed task fields and status lines, which Slack renders with
 * its own markup: besides mentions, `<url|label>` links and Markdown `[label](url)` links are broken
 * with a zero-width space, so fetched text cannot dress up a link (or ping anyone).
 */
export function defuseMarkup(text: string): string {
  return defuseMentions(text).replace(/<(?!\u200b)/g, '<\u200b').replace(/\]\(/g, ']\u200b(');
}

/** A link `<url|label>`; `|` and `>` cannot appear inside either part. */
export function link(url: string, label: string): string {
  const safeUrl = url.replace(/[<>|\s]/g, (c) => encodeURIComponent(c));
  const safeLabel = escapeMrkdwn(label.replace(/[|]/g, '¦')).replace(/\s+/g, ' ').trim() || safeUrl;
  return `<${safeUrl}|${safeLabel}>`;
}

const PLACEHOLDER = '\u0000';

/**
 * Converts common Markdown to mrkdwn: **bold** and __bold__ -> *bold*, *em* -> _em_, ~~s~~ -> ~s~,
 * [text](url) -> <url|text>, headings -> bold lines, - and * bullets -> •. Code spans and fenced
 * blocks are kept verbatim (only escaped). Anything else is escaped text.
 */
export function markdownToMrkdwn(md: string): string {
  const kept: string[] = [];
  const keep = (s: string) => `${PLACEHOLDER}${kept.push(s) - 1}${PLACEHOLDER}`;
  let text = md.replace(/\r\n?/g, '\n').replace(new RegExp(PLACEHOLDER, 'g'), '');

  // Fenced code blocks: drop the language tag (mrkdwn has none), keep the body verbatim.
  text = text.replace(/^```[^\n`]*\n([\s\S]*?)^```[ \t]*$/gm, (_m, body: string) =>
    keep('```\n' + escapeMrkdwn(body.replace(/\n$/, '')) + '\n```'),
  );
  // Inline code.
  text = text.replace(/`([^`\n]+)`/g, (_m, body: string) => keep('`' + escapeMrkdwn(body) + '`'));
  // Links and images before escaping (their URLs must not be escaped as text).
  text = text.replace(/!?\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)(?:\s+"[^"]*")?\)/g, (_m, label: string, url: string) =>
    keep(link(url, stripInline(label))),
  );
  // Bare autolinks <https://...>.
  text = text.replace(/<(https?:\/\/[^\s>]+)>/g, (_m, url: string) => keep(`<${url.replace(/[|]/g, '%7C')}>`));

  text = escapeMrkdwn(text);

  const lines = text.split('\n').map((line) => {
    const heading = /^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (heading) return keep(`*${stripInline(heading[1])}*`);
    if (/^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) return '──────────';
    const bullet = /^(\s*)[-*+]\s+(.*)$/.exec(line);
    if (bullet) return `${bullet[1]}• ${bullet[2]}`;
    return line;
  });
  text = lines.join('\n');

  text = text
    .replace(/\*\*(?=\S)([^*\n]+?)\*\*/g, (_m, s: string) => keep(`*${s}*`))
    .replace(/__(?=\S)([^_\n]+?)__/g, (_m, s: string) => keep(`*${s}*`))
    .replace(/(^|[^\w*])\*(?=\S)([^*\n]+?)\*(?!\w)/g, (_m, pre: string, s: string) => `${pre}${keep(`_${s}_`)}`)
    .replace(/~~(?=\S)([^~\n]+?)~~/g, (_m, s: string) => keep(`~${s}~`));

  // Restore (placeholders can nest: a heading that contained a link).
  const restore = (s: string): string =>
    s.replace(new RegExp(`${PLACEHOLDER}(\\d+)${PLACEHOLDER}`, 'g'), (_m, i: string) => restore(kept[Number(i)]));
  return restore(text);
}

/** Drops inline Markdown markers from a short label (headings, link texts). */
function stripInline(s: string): string {
  return s.replace(/\*\*|__|~~|`/g, '').replace(/(^|\s)[*_](\S[^*_]*?)[*_](?=\s|$)/g, '$1$2');
}

/** Cuts `text` to at most `max` characters, ending with an ellipsis when cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 1) return text.slice(0, max);
  let cut = text.slice(0, max - 1);
  // Do not leave half an escape entity or half a link at the end.
  cut = cut.replace(/&[a-z]{0,4}$/, '').replace(/<[^>]*$/, '');
  return `${cut}…`;
}

/** Keeps the end of `text` (observations: the last lines matter most). */
export function truncateStart(text: string, max: number): string {
  if (text.length <= max) return text;
  return `…${text.slice(text.length - max + 1).replace(/^[^&]*?;/, (m) => (/&[a-z]*;$/.test(m) ? '' : m))}`;
}

/**
 * Splits mrkdwn into pieces of at most `max` characters: at paragraph breaks, then line breaks,
 * then spaces; a code block that has to be cut is closed and reopened so both halves render.
 */
export function splitMrkdwn(text: string, max: number): string[] {
  if (max < 20) throw new Error(`splitMrkdwn: max ${max} too small`);
  const pieces: string[] = [];
  let rest = text.trim();
  let reopen = false;
  while (rest.length > 0) {
    const budget = max - (reopen ? 4 : 0) - 4; // room for a reopening and a closing fence
    const head = reopen ? '```\n' : '';
    if (rest.length <= budget) {
      const last = head + rest;
      // An unclosed block in the input (the model forgot a fence) is closed here.
      pieces.push((last.match(/```/g) ?? []).length % 2 === 1 ? `${last}\n\`\`\`` : last);
      break;
    }
    let cut = bestCut(rest, budget);
    // Never cut inside a link or an entity.
    const open = rest.lastIndexOf('<', cut);
    if (open > rest.lastIndexOf('>', cut - 1) && open > 0) cut = open;
    let piece = rest.slice(0, cut).replace(/\s+$/, '');
    rest = rest.slice(cut).replace(/^\s+/, '');
    const fences: number = (piece.match(/```/g) ?? []).length + (reopen ? 1 : 0);
    const insideCode: boolean = fences % 2 === 1;
    if (insideCode) piece += '\n```';
    pieces.push(head + piece);
    reopen = insideCode;
  }
  return pieces.filter((p) => p.trim().length > 0);
}

function bestCut(text: string, budget: number): number {
  const window = text.slice(0, budget);
  const minUseful = Math.floor(budget * 0.5);
  for (const sep of ['\n\n', '\n', ' ']) {
    const at = window.lastIndexOf(sep);
    if (at >= minUseful) return at + sep.length;
  }
  return budget;
}
