// What serve.ts needs from each platform adapter.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** An HTTP route a platform mounts on the bot's one HTTP port (CIR_HTTP_PORT). */
export interface HttpRoute {
  method: 'GET' | 'POST';
  path: string;
  handle(req: IncomingMessage, res: ServerResponse): void | Promise<void>;
}

export interface PlatformAdapter {
  readonly name: 'slack' | 'discord';
  /** Connects (gateway / Socket Mode); resolves once ready to receive events. */
  start(): Promise<void>;
  /** Stops receiving new events; running research is the chat layer's business. */
  stop(): Promise<void>;
  /** For /healthz. */
  status(): { connected: boolean; detail?: string };
  /** Routes to mount on the shared HTTP server (e.g. POST /slack/events). */
  readonly routes: HttpRoute[];
}
