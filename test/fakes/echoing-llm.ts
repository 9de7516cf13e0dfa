// A model server that rejects every completion with HTTP 400 and an error body echoing the request
// headers, Authorization included: the shape of vLLM's OpenAI-compatible ErrorResponse
// ({ object: "error", message, type, param, code }, vllm/entrypoints/openai/protocol.py), with a
// message written the way proxies and debug builds echo what they received. GET /v1/models answers
// normally (OpenAI "List models": { object: "list", data: [{ id, object: "model" }] }).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EchoingLlm {
  baseUrl: string;
  /** Authorization headers received (to prove the key was sent). */
  authorizations: string[];
  close(): Promise<void>;
}

export async function startEchoingLlm(model = 'Intelligent-Internet/II-Search-CIR-4B'): Promise<EchoingLlm> {
  const authorizations: string[] = [];
  const server = createServer((req, res) => {
    req.resume();
    const path = (req.url ?? '').split('?')[0];
    if (req.headers.authorization) authorizations.push(req.headers.authorization);
    if (req.method === 'GET' && path === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ object: 'list', data: [{ id: model, object: 'model', max_model_len: 131072 }] }));
    }
    const echoed = Object.entries(req.headers).map(([k, v]) => `${k}: ${String(v)}`).join('\n');
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ object: 'error', message: `invalid request; headers were:\n${echoed}`, type: 'BadRequestError', param: null, code: 400, headers: req.headers }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    authorizations,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
