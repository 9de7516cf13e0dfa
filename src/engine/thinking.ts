// Splits a turn's streamed text into what the user may watch as "thinking": the model's prose
// before a code block or before </think>. Markers split across chunks are held back until whole.
import { END_CODE, START_CODE, THINK_CLOSE } from './protocol.ts';

// <end_code> only shows up in the stream of servers that keep the stop string in the text.
const MARKERS = [START_CODE, THINK_CLOSE, END_CODE];

export interface ThinkingDelta {
  thinking: string;
  /** </think> was just seen: the answer is being written. */
  closed: boolean;
}

export class ThinkingFilter {
  #buf = '';
  #emitted = 0;
  #mode: 'think' | 'quiet';

  /** `answering`: the reasoning is already closed (e.g. by the conclude text): nothing is thinking. */
  constructor(answering = false) {
    this.#mode = answering ? 'quiet' : 'think';
  }

  push(delta: string): ThinkingDelta {
    this.#buf += delta;
    if (this.#mode === 'quiet') return { thinking: '', closed: false };
    let cut = -1;
    let marker = '';
    for (const m of MARKERS) {
      const i = this.#buf.indexOf(m, this.#emitted);
      if (i >= 0 && (cut < 0 || i < cut)) [cut, marker] = [i, m];
    }
    if (cut >= 0) {
      const thinking = this.#buf.slice(this.#emitted, cut);
      this.#emitted = this.#buf.length;
      this.#mode = 'quiet';
      return { thinking, closed: marker === THINK_CLOSE };
    }
    const end = this.#buf.length - heldBack(this.#buf);
    const thinking = this.#buf.slice(this.#emitted, Math.max(end, this.#emitted));
    this.#emitted = Math.max(end, this.#emitted);
    return { thinking, closed: false };
  }

  /** The held-back tail at the end of the turn (it was not a marker after all). */
  flush(): string {
    if (this.#mode === 'quiet') return '';
    const rest = this.#buf.slice(this.#emitted);
    this.#emitted = this.#buf.length;
    return rest;
  }
}

/** Length of the longest suffix of `s` that is a proper prefix of a marker. */
function heldBack(s: string): number {
  let best = 0;
  for (const m of MARKERS) {
    for (let n = Math.min(m.length - 1, s.length); n > best; n--) {
      if (s.endsWith(m.slice(0, n))) {
        best = n;
        break;
      }
    }
  }
  return best;
}
