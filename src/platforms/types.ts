// What serve.ts needs from each platform adapter.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ThreadRef, ThreadSurface } from '../chat/types.ts';

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
  /**
   * A surface for an existing thread of this platform, outside any incoming event. serve.ts uses it
   * at start-up to post the final view of sessions a previous process left interrupted
   * (chat.recoverInterrupted). Optional: without it those threads are only logged.
   */
  surface?(ref: ThreadRef, userId?: string): ThreadSurface;
  /**
   * `serve --role worker`: readies only the Web/REST side (the bot's identity, the REST client),
   * no gateway or Socket Mode connection, so that surface() can render sessions taken from the
   * queue. Optional: an adapter without it cannot serve a worker.
   */
  connectRest?(): Promise<void>;
  /** Optional: report each time the platform's API made the bot wait (429 / rate-limit queue),
   *  for the cir_rate_limit_wait* metrics. */
  onRateLimit?(listener: (waitMs: number) => void): void;
}
