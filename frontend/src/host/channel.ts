/**
 * TensorBoard's protocol for iframe plugins (`plugin_lib` in tensorflow/tensorboard).
 *
 * The tab (the guest) makes a MessageChannel and posts the string
 * `experimental.bootstrap` with one port to the parent frame; TensorBoard
 * keeps the port. Both sides then exchange JSON strings
 * `{type, id, payload, error, isReply}`: a request is answered by a message of
 * the same type and id with `isReply: true`. TensorBoard broadcasts
 * `experimental.DataReloaded` after each reload (auto-reload or its reload
 * button) and answers `experimental.GetURLPluginData` with the `p.<plugin>.*`
 * entries of its URL hash.
 */

/** One message on the channel. */
export interface HostMessage {
  type: string;
  id: number;
  payload: unknown;
  error: string | null;
  isReply: boolean;
}

export const DATA_RELOADED = "experimental.DataReloaded";
export const GET_URL_PLUGIN_DATA = "experimental.GetURLPluginData";

type Listener = (payload: unknown) => unknown;

/** The guest end of the channel. */
export class HostChannel {
  private nextId = 0;
  private readonly waits = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(private readonly port: MessagePort) {
    port.addEventListener("message", (e) => void this.onMessage(e));
    port.start();
  }

  /** Calls `fn` with the payload of every `type` message; returns the unsubscribe. */
  listen(type: string, fn: Listener): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(fn);
    return () => set!.delete(fn);
  }

  /**
   * Sends a request and resolves with the reply's payload.
   *
   * Rejects with the host's error, or after `timeoutMs` without a reply (a
   * TensorBoard that does not know the type may never answer).
   */
  send(type: string, payload: unknown = null, timeoutMs = 3000): Promise<unknown> {
    const id = this.nextId++;
    this.post({ type, id, payload, error: null, isReply: false });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waits.delete(id);
        reject(new Error(`no reply to ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waits.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
    });
  }

  private post(m: HostMessage) {
    this.port.postMessage(JSON.stringify(m));
  }

  private async onMessage(event: MessageEvent) {
    let m: HostMessage;
    try {
      m = JSON.parse(String(event.data)) as HostMessage;
    } catch {
      return;
    }
    if (!m || typeof m.type !== "string" || typeof m.id !== "number") return;
    if (m.isReply) {
      const w = this.waits.get(m.id);
      if (!w) return;
      this.waits.delete(m.id);
      if (m.error) w.reject(new Error(String(m.error)));
      else w.resolve(m.payload);
      return;
    }
    let payload: unknown = null;
    let error: string | null = null;
    for (const fn of this.listeners.get(m.type) ?? []) {
      try {
        payload = await fn(m.payload);
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
    }
    // TensorBoard awaits a reply from every plugin it broadcasts to.
    this.post({ type: m.type, id: m.id, payload: payload ?? null, error, isReply: true });
  }
}

let shared: HostChannel | null | undefined;

/**
 * The channel to TensorBoard, opened on first use; null when the tab runs
 * standalone (no parent frame, or one of another origin).
 */
export function hostChannel(win: Window = window): HostChannel | null {
  if (shared !== undefined) return shared;
  shared = null;
  if (win.parent === win || typeof MessageChannel === "undefined") return shared;
  const ch = new MessageChannel();
  shared = new HostChannel(ch.port1);
  // The port goes only to a parent of our own origin: TensorBoard serves both frames.
  win.parent.postMessage("experimental.bootstrap", win.location.origin, [ch.port2]);
  return shared;
}
