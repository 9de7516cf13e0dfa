// The bot's one HTTP server (CIR_HTTP_PORT): platform routes (e.g. POST /slack/events), plus
// GET /healthz and GET /metrics.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpRoute } from '../platforms/types.ts';
import type { HealthCheck } from './health.ts';
import type { Logger } from '../util/log.ts';
import type { Metrics } from './metrics.ts';

export interface HttpServerOptions {
  port: number;
  host?: string;
  routes?: HttpRoute[];
  health: HealthCheck;
  metrics: Metrics;
  logger: Logger;
}

export interface BotHttpServer {
  /** Resolves with the bound port (useful with port 0). */
  listen(): Promise<number>;
  /** Stops accepting connections and closes idle ones; in-flight requests may finish. */
  close(): Promise<void>;
  readonly server: Server;
}

export function createHttpServer(options: HttpServerOptions): BotHttpServer {
  const { logger, metrics, health } = options;
  const table = new Map<string, HttpRoute>();
  const builtIn: HttpRoute[] = [
    {
      method: 'GET',
      path: '/healthz',
      async handle(_req, res) {
        const report = await health();
        sendJson(res, report.ok ? 200 : 503, report);
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      async handle(_req, res) {
        const text = await metrics.render();
        res.writeHead(200, { 'content-type': metrics.contentType });
        res.end(text);
      },
    },
  ];
  for (const r of [...builtIn, ...(options.routes ?? [])]) {
    const key = `${r.method} ${r.path}`;
    if (table.has(key)) throw new Error(`two HTTP routes for ${key}`);
    table.set(key, r);
  }

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const route = table.get(`${method} ${path}`);
    if (!route) {
      const other = [...table.values()].some((r) => r.path === path);
      sendJson(res, other ? 405 : 404, { error: other ? 'method not allowed' : 'not found' });
      return;
    }
    try {
      await route.handle(req, res);
    } catch (err) {
      metrics.error('http');
      logger.error({ err, method, path }, 'http route failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    }
  });
  // Slack and load balancers keep connections alive; do not let one idle socket hold shutdown.
  server.keepAliveTimeout = 5000;

  return {
    server,
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host ?? '0.0.0.0', () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}
