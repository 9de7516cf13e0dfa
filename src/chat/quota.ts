// Sliding-window quotas: at most `limit` uses per key within `windowMs`. Exact: a use frees up
// exactly `windowMs` after it was taken, which is the time we tell the user.

export type QuotaCheck = { ok: true } | { ok: false; retryAt: number };

export class SlidingWindowQuota {
  readonly limit: number;
  readonly windowMs: number;
  /** key -> use times (ascending) with the id that took each (so a withdrawn request gives its use back). */
  readonly #uses = new Map<string, { at: number; id: string }[]>();

  constructor(limit: number, windowMs: number) {
    this.limit = limit;
    this.windowMs = windowMs;
  }

  #live(key: string, now: number): { at: number; id: string }[] {
    const list = this.#uses.get(key);
    if (!list) return [];
    const from = now - this.windowMs;
    let drop = 0;
    while (drop < list.length && list[drop].at <= from) drop++;
    if (drop) list.splice(0, drop);
    if (!list.length) this.#uses.delete(key);
    return list;
  }

  check(key: string, now: number): QuotaCheck {
    const list = this.#live(key, now);
    if (list.length < this.limit) return { ok: true };
    return { ok: false, retryAt: list[list.length - this.limit].at + this.windowMs };
  }

  take(key: string, at: number, id: string): void {
    const list = this.#uses.get(key) ?? [];
    list.push({ at, id });
    list.sort((a, b) => a.at - b.at);
    this.#uses.set(key, list);
  }

  /** Gives a use back (a request withdrawn before it started). */
  release(key: string, id: string): void {
    const list = this.#uses.get(key);
    if (!list) return;
    const i = list.findIndex((u) => u.id === id);
    if (i >= 0) list.splice(i, 1);
  }

  used(key: string, now: number): number {
    return this.#live(key, now).length;
  }
}
