// Finding the answer in a fake Slack thread, however it was delivered: streamed as Markdown (the
// stream's text, with sources and feedback buttons in its final blocks) or posted as messages.
import type { FakeMessage } from '../fakes/slack.ts';

/** Messages of the answer: the ones carrying the native feedback buttons or posted as "Answer…". */
export function answerMessages(thread: FakeMessage[]): FakeMessage[] {
  return thread.filter((m) => JSON.stringify(m.blocks).includes('"feedback_buttons"') || m.text.startsWith('Answer'));
}

/** Everything a person reads in a message: its (streamed) text and its blocks. */
export function shown(m: FakeMessage): string {
  return `${m.text}\n${JSON.stringify(m.blocks)}`;
}

/** The feedback button values of a message (`up:<session>`, `down:<session>`). */
export function feedbackValues(m: FakeMessage): { up: string; down: string } | null {
  for (const b of m.blocks as { type?: string; elements?: Record<string, any>[] }[])
    for (const e of b.elements ?? [])
      if (e.type === 'feedback_buttons') return { up: e.positive_button.value, down: e.negative_button.value };
  return null;
}
