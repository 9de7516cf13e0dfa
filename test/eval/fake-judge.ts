// An OpenAI-compatible chat endpoint that grades like a judge would, from the prompt's content:
// A when the predicted answer contains the reference, C when it declines, B otherwise.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeJudge {
  url: string;
  prompts: string[];
  /** Make the next N requests fail with HTTP 500 (after the client's retries too). */
  failNext(n: number): void;
  close(): Promise<void>;
}

export function gradeFromPrompt(prompt: string): string {
  const pick = (label: string) => {
    const m = new RegExp(`${label}:\\n([\\s\\S]*?)\\n\\n`).exec(prompt);
    return (m?.[1] ?? '').trim().toLowerCase();
  };
  const target = pick('Reference answer');
  const predicted = pick('Predicted answer');
  if (/could not|cannot find|unable/.test(predicted)) return 'C';
  return target && predicted.includes(target) ? 'A' : 'B';
}

export async function startFakeJudge(): Promise<FakeJudge> {
  const prompts: string[] = [];
  let failures = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404).end();
        return;
      }
      if (failures > 0) {
        failures--;
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'judge overloaded' } }));
        return;
      }
      const { messages, model } = JSON.parse(body) as { messages: Array<{ content: string }>; model: string };
      const prompt = messages.map((m) => m.content).join('\n');
      prompts.push(prompt);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: `chatcmpl-${prompts.length}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model,
          choices: [{ index: 0, message: { role: 'assistant', content: gradeFromPrompt(prompt) }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 100, completion_tokens: 1, total_tokens: 101 },
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    prompts,
    failNext(n) {
      failures = n;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}
