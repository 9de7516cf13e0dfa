// The fixed markers of the CIR protocol (DESIGN.md section 1). These are what the model was
// trained on; the prompt texts around them live in prompts/ and may be replaced by an operator.

export const IM_START = '<|im_start|>';
export const IM_END = '<|im_end|>';
export const THINK_OPEN = '<think>';
export const THINK_CLOSE = '</think>';
export const START_CODE = '<start_code>';
export const END_CODE = '<end_code>';
export const STOP = [END_CODE];

/** One ChatML message, closed. */
export function chatMessage(role: 'system' | 'user' | 'assistant', content: string): string {
  return `${IM_START}${role}\n${content}${IM_END}\n`;
}

/** Opens the assistant turn the model continues: `<|im_start|>assistant\n<think>\n` + hint. */
export function openAssistant(hint: string): string {
  return `${IM_START}assistant\n${THINK_OPEN}\n${hint}`;
}

/**
 * What follows a code block the model wrote (the stop string itself is excluded from the server's
 * text, so we write it back): the block's output, then a newline the model continues from.
 */
export function observationText(output: string): string {
  return `${END_CODE}\n\`\`\`output\n${output}\n\`\`\`\n`;
}

// Control strings a web page (or a user) could use to steer the model: special tokens of the Qwen
// vocabulary and the protocol's own tags. Each is defused by replacing its '<' with a look-alike
// ('‹', U+2039), so it stays readable but is no longer the token or the marker.
const SPECIAL_TOKEN = /<(\|[A-Za-z0-9_]{1,40}\|>)/g;
const PROTOCOL_TAG = /<(\/?(?:think|start_code|end_code|tool_call|tool_response)>)/gi;

export function neutralise(text: string): string {
  return text.replace(SPECIAL_TOKEN, '‹$1').replace(PROTOCOL_TAG, '‹$1');
}

/** Three or more backticks would close the ```output block (or open a fake one) around text the
 *  model reads: each such run becomes full-width grave accents (U+FF40), readable but inert. */
const FENCE = /`{3,}/g;

export function defuseFences(text: string): string {
  return text.replace(FENCE, (run) => '\uff40'.repeat(run.length));
}

/** Everything the model reads that came from outside (pages, results, earlier answers). */
export function neutraliseUntrusted(text: string): string {
  return defuseFences(neutralise(text));
}
