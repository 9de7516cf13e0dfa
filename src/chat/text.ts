// Text helpers shared by the platforms: splitting long messages at natural boundaries without
// breaking code fences, and trimming observations for display.

const FENCE = /^\s*(`{3,}|~{3,})(.*)$/;

/** The fence opened and not closed at the end of `text`, e.g. "```python", or null. */
function openFence(text: string): string | null {
  let open: string | null = null;
  let marker = '';
  for (const line of text.split('\n')) {
    const m = FENCE.exec(line);
    if (!m) continue;
    if (open === null) {
      marker = m[1];
      open = (m[1] + m[2].trim()).slice(0, 24);
    } else if (m[1].startsWith(marker[0]) && m[1].length >= marker.length && m[2].trim() === '') {
      open = null;
    }
  }
  return open;
}

/** Best cut position in `s` after `floor` and at or before `max`: paragraph, line, sentence, word. */
function cutPoint(s: string, max: number, floor: number): number {
  const window = s.slice(0, max + 1);
  const half = floor + Math.floor((max - floor) / 2);
  const kinds: { re: RegExp; after: boolean }[] = [
    { re: /\n[ \t]*\n/g, after: false },
    { re: /\n/g, after: false },
    { re: /[.!?;:][)"'\]]*(?=\s)/g, after: true },
    { re: /\s/g, after: false },
  ];
  let fallback = -1;
  for (const { re, after } of kinds) {
    let best = -1;
    for (const m of window.matchAll(re)) {
      const at = m.index + (after ? m[0].length : 0);
      if (at > floor && at <= max) best = at;
    }
    if (best >= half) return best;
    if (best > fallback) fallback = best;
  }
  if (fallback > floor) return fallback;
  // No boundary at all: hard cut, never between the halves of a surrogate pair.
  let at = max;
  const code = s.charCodeAt(at - 1);
  if (code >= 0xd800 && code <= 0xdbff) at -= 1;
  return at;
}

/**
 * Splits `text` into parts of at most `limit` characters, at paragraph, then line, then sentence,
 * then word boundaries. A code fence cut in two is closed at the end of one part and reopened
 * (with its language) at the start of the next.
 */
export function splitMessage(text: string, limit: number): string[] {
  if (limit < 40) throw new RangeError(`splitMessage: limit ${limit} is too small`);
  const parts: string[] = [];
  let rest = text;
  let prefix = '';
  while (true) {
    const candidate = prefix + rest;
    if (candidate.length <= limit) {
      if (candidate.trim()) parts.push(candidate);
      break;
    }
    // Leave room for a closing fence; shrink further if the fence marker is longer than ```.
    let budget = limit - 4;
    let cut: number;
    let part: string;
    let fence: string | null;
    while (true) {
      cut = cutPoint(candidate, budget, prefix.length);
      part = candidate.slice(0, cut).replace(/\s+$/, '');
      fence = openFence(part);
      const closeLen = fence ? 1 + fence.match(/^(`{3,}|~{3,})/)![1].length : 0;
      if (part.length + closeLen <= limit || budget <= prefix.length + 1) break;
      budget -= part.length + closeLen - limit;
    }
    let next = candidate.slice(cut);
    if (fence) {
      const close = fence.match(/^(`{3,}|~{3,})/)![1];
      part += `\n${close}`;
      prefix = `${fence}\n`;
      next = next.replace(/^\n/, '');
    } else {
      prefix = '';
      next = next.replace(/^\s+/, '');
    }
    if (part.trim()) parts.push(part);
    rest = next;
    if (!rest.trim()) break;
  }
  return parts;
}

/** Shortens `text` to at most `maxChars`, cutting at a line end when one is near, and says how much was left out. */
export function trimObservation(text: string, maxChars: number): string {
  const t = text.replace(/\s+$/, '');
  if (t.length <= maxChars) return t;
  const note = (n: number) => `\n… (${n} more characters)`;
  const room = Math.max(0, maxChars - note(t.length).length);
  let cut = room;
  const nl = t.lastIndexOf('\n', room);
  if (nl > room * 0.7) cut = nl;
  const code = t.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  return t.slice(0, cut).replace(/\s+$/, '') + note(t.length - cut);
}
