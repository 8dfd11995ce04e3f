// DurableRooms client for browsers and Node 20+: one ES module, no dependencies, no build step.
// docs/CLIENTS.md describes the API and its guarantees; docs/PROTOCOL.md the frames it speaks.

/**
 * @typedef {{seq: number, id: string, user: string, text: string, ts: number, [field: string]: unknown}} Message
 * @typedef {{id: string, seq?: number, duplicate?: boolean, scheduled?: boolean, deliverAt?: number}} Ack
 * @typedef {{user: string, connections: number}} Present
 * @typedef {{stream: string, replyTo?: number, text: string, done: boolean, status?: string, seq?: number, error?: {code: string, message: string}}} AnswerStream
 * @typedef {"connecting" | "syncing" | "open" | "waiting" | "offline" | "closed"} ConnectionState
 */

/** Close codes after which reconnecting cannot help: the client stops and reports. */
const TERMINAL_CLOSES = new Set([1008, 1009, 4403, 4404]);
/** HTTP statuses of a refused upgrade (learnt by asking the room over HTTP) that are final. */
const TERMINAL_STATUSES = new Map([[400, 1008], [403, 4403], [404, 4404]]);

/** An error the server answered (its `code` is one of docs/PROTOCOL.md's), or the client's own. */
export class RoomsError extends Error {
  /** @param {string} code @param {string} [message] */
  constructor(code, message) {
    super(message ? `${code}: ${message}` : code);
    this.name = "RoomsError";
    this.code = code;
  }
}

/**
 * One room, kept connected: reconnects with full-jitter backoff, resumes with `after` and `epoch`,
 * fills any gap from history, and hands the app every message exactly once, in `seq` order.
 * Sends wait in a bounded outbox while disconnected and are resent with the same `id`.
 */
export class RoomClient {
  /**
   * @param {string} url the room's WebSocket URL, `ws://host/rooms/{kind}/{id}/ws?user=NAME`
   * @param {object} [options]
   * @param {string} [options.token] a token (jwt mode), sent as `?token=`
   * @param {() => Promise<string> | string} [options.getToken] called for a new token when the server says the current one expired (4401)
   * @param {number} [options.after] the last `seq` the app already has: resume from there
   * @param {string} [options.epoch] the epoch `after` was seen under
   * @param {typeof WebSocket} [options.WebSocket] the WebSocket class (default: the global one)
   * @param {typeof fetch} [options.fetch] the fetch function (default: the global one)
   * @param {number} [options.minBackoff] first reconnect delay cap, ms (500)
   * @param {number} [options.maxBackoff] largest reconnect delay cap, ms (20000)
   * @param {number} [options.resetAfter] a connection open this long resets the backoff, ms (5000)
   * @param {number} [options.outboxLimit] the most sends waiting for their ack (1000)
   * @param {number} [options.pingInterval] how often to ping, ms (25000)
   * @param {number} [options.pongTimeout] how long a ping may go unanswered before reconnecting, ms (10000)
   * @param {number} [options.maxFrameBytes] the server's `maxFrameBytes` (65536)
   * @param {() => number} [options.random] a random number in [0, 1) (Math.random)
   */
  constructor(url, options = {}) {
    const parsed = new URL(url);
    if (!/^wss?:$/.test(parsed.protocol)) throw new RoomsError("invalid_url", "the URL is ws:// or wss://");
    const match = parsed.pathname.match(/^\/rooms\/([^/]+)\/([^/]+)\/ws$/) || parsed.pathname.match(/^\/inbox\/ws$/);
    if (!match) throw new RoomsError("invalid_url", "the URL is /rooms/{kind}/{id}/ws or /inbox/ws");
    this.url = parsed;
    this.isInbox = parsed.pathname === "/inbox/ws";
    this.options = {
      minBackoff: 500, maxBackoff: 20000, resetAfter: 5000, outboxLimit: 1000,
      pingInterval: 25000, pongTimeout: 10000, maxFrameBytes: 65536, random: Math.random, ...options,
    };
    this.WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this.fetch = options.fetch ?? globalThis.fetch?.bind(globalThis);
    if (!this.WebSocket) throw new RoomsError("no_websocket", "pass options.WebSocket (Node before 22: the ws package)");
    this.token = options.token;
    /** The last `seq` handed to the app; null until the first welcome sets the baseline. */
    this.lastSeq = options.after ?? null;
    this.epoch = options.epoch ?? null;
    /** @type {ConnectionState} */
    this.state = "connecting";
    /** @type {Present[]} who is online (while the room is over its presenceLimit: as of the last sync) */
    this.presence = [];
    /** How many users are online: from `presence` frames' `users`, so right in big rooms too. */
    this.online = 0;
    /** @type {Map<string, number>} each user's read cursor, from `receipt` frames */
    this.receipts = new Map();
    /** @type {Map<string, AnswerStream>} AI answers by stream */
    this.streams = new Map();
    /** @type {Map<string, object>} the inbox's rooms by `kind/id` (inbox connections) */
    this.inbox = new Map();
    this.listeners = new Map();
    /** Sends not yet acknowledged, in the order they were made. */
    this.outbox = new Map();
    this.socket = null;
    this.attempt = 0;
    this.counter = 0;
    this.buffered = new Map();
    this.stopped = false;
    this.timers = new Set();
    this.onOnline = () => { if (this.state === "offline") this.reconnectNow(); };
    this.onOffline = () => { this.setState("offline"); this.socket?.close(4000, "offline"); };
    if (typeof globalThis.addEventListener === "function" && "onoffline" in globalThis) {
      globalThis.addEventListener("online", this.onOnline);
      globalThis.addEventListener("offline", this.onOffline);
    }
  }

  // MARK: - Events

  /**
   * Listens to `event`: `message` (a stored message, once, in order), `welcome`, `state`,
   * `presence`, `receipt`, `typing`, `member`, `ai` (an answer stream changed), `inbox`,
   * `reset` (the room was recreated: seq starts again), `outbox` ({size, full}), `closed`
   * ({code, reason}: terminal), `error` (an error frame not tied to a send), `frame` (every frame).
   * @returns {() => void} stops listening
   */
  on(event, listener) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event).add(listener);
    return () => this.listeners.get(event)?.delete(listener);
  }

  emit(event, value) {
    for (const listener of this.listeners.get(event) ?? []) {
      try { listener(value); } catch (error) { queueMicrotask(() => { throw error; }); }
    }
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.emit("state", state);
  }

  // MARK: - Connecting

  /** Opens the connection (called by `connect`). */
  start() {
    this.open();
    return this;
  }

  open() {
    if (this.stopped) return;
    this.setState(this.state === "offline" ? "offline" : "connecting");
    const url = new URL(this.url);
    if (this.token) url.searchParams.set("token", this.token);
    if (this.lastSeq !== null && !this.isInbox) url.searchParams.set("after", String(this.lastSeq));
    if (this.epoch && !this.isInbox) url.searchParams.set("epoch", this.epoch);
    let socket;
    try {
      socket = new this.WebSocket(url.toString());
    } catch (error) {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    this.welcomed = false;
    this.openedAt = 0;
    socket.onmessage = (event) => this.received(socket, event.data);
    socket.onclose = (event) => this.closed(socket, event.code, event.reason);
    socket.onerror = () => {};
  }

  /** The socket closed: reconnect, refresh the token, or stop for good. */
  async closed(socket, code, reason) {
    if (socket !== this.socket) return;
    this.socket = null;
    this.stopPinging();
    if (this.stopped) return;
    if (this.openedAt && Date.now() - this.openedAt >= this.options.resetAfter) this.attempt = 0;
    if (!this.welcomed) {
      // Refused before the upgrade (a browser cannot see the HTTP status): ask the room why.
      const refusal = await this.probe();
      if (refusal) ({ code, reason } = refusal);
    }
    if (code === 4401 && this.options.getToken) {
      try {
        this.token = await this.options.getToken();
        this.attempt = 0;
        return this.reconnectNow();
      } catch {
        return this.finish(4401, "token_refresh_failed");
      }
    }
    if (code === 4401 || TERMINAL_CLOSES.has(code)) return this.finish(code, reason);
    if (this.state !== "offline") this.setState("waiting");
    this.scheduleReconnect();
  }

  /** Asks the room over HTTP why an upgrade failed: a final refusal's close code, or null. */
  async probe() {
    if (!this.fetch || this.isInbox) return null;
    try {
      const response = await this.fetch(this.httpURL(""), { headers: this.headers() });
      if (response.status === 401) return { code: 4401, reason: "unauthorized" };
      const close = TERMINAL_STATUSES.get(response.status);
      if (!close) return null;
      const body = await response.json().catch(() => ({}));
      return { code: close, reason: body?.error?.code ?? String(response.status) };
    } catch {
      return null;
    }
  }

  scheduleReconnect() {
    if (this.stopped || this.state === "offline") return;
    // Full jitter: anywhere from 0 to the capped exponential delay.
    const cap = Math.min(this.options.maxBackoff, this.options.minBackoff * 2 ** this.attempt);
    this.attempt += 1;
    this.later(() => this.open(), this.options.random() * cap);
  }

  reconnectNow() {
    if (this.stopped) return;
    this.socket?.close(4000, "reconnect");
    this.socket = null;
    this.setState("connecting");
    this.open();
  }

  later(action, delay) {
    const timer = setTimeout(() => { this.timers.delete(timer); action(); }, delay);
    this.timers.add(timer);
    return timer;
  }

  /** Stops for good: `closed` is emitted and every waiting send is rejected with `code`. */
  finish(code, reason) {
    this.stopped = true;
    this.setState("closed");
    const why = `the connection closed for good with ${code}${reason ? ` (${reason})` : ""}`;
    for (const pending of this.outbox.values()) pending.reject(new RoomsError("closed", why));
    this.outbox.clear();
    this.emit("closed", { code, reason });
    this.cleanup();
  }

  /** Closes the connection; waiting sends are rejected with `closed`. */
  close() {
    if (this.stopped) return;
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, "bye");
    this.finish(1000, "closed");
  }

  cleanup() {
    this.stopPinging();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (typeof globalThis.removeEventListener === "function") {
      globalThis.removeEventListener("online", this.onOnline);
      globalThis.removeEventListener("offline", this.onOffline);
    }
  }

  // MARK: - Heartbeat

  /** A `ping` every `pingInterval`; a `pong` must come within `pongTimeout` of it. */
  startPinging() {
    this.stopPinging();
    this.pinger = setInterval(() => {
      if (!this.socket || this.pongDeadline) return;
      this.transmit({ type: "ping", id: `ping-${++this.counter}` });
      this.pongDeadline = setTimeout(() => {
        // No answer: the link is dead even if the socket does not know it yet.
        const socket = this.socket;
        if (!socket) return;
        this.closed(socket, 4000, "ping_timeout");
        try { socket.close(4000, "ping_timeout"); } catch {}
      }, this.options.pongTimeout);
    }, this.options.pingInterval);
  }

  stopPinging() {
    clearInterval(this.pinger);
    clearTimeout(this.pongDeadline);
    this.pinger = null;
    this.pongDeadline = null;
  }

  // MARK: - Frames from the server

  received(socket, data) {
    if (socket !== this.socket || typeof data !== "string") return;
    let frame;
    try { frame = JSON.parse(data); } catch { return; }
    if (frame.type === "pong") {
      clearTimeout(this.pongDeadline);
      this.pongDeadline = null;
    }
    this.emit("frame", frame);
    this.handle(frame);
  }

  /** Handles one parsed frame from the server (a subclass handles its room's own first). */
  handle(frame) {
    switch (frame.type) {
      case "welcome": return this.welcomed_(frame);
      case "message": return this.arrived(frame);
      case "ack": return this.acknowledged(frame);
      case "error": return this.refused(frame);
      case "presence": return this.presenceChanged(frame);
      case "receipt":
        if ((this.receipts.get(frame.user) ?? -1) < frame.seq) this.receipts.set(frame.user, frame.seq);
        return this.emit("receipt", frame);
      case "typing": return this.emit("typing", frame);
      case "member": return this.emit("member", frame);
      case "inbox": return this.inboxChanged(frame);
      case "ai.start": case "ai.delta": case "ai.end": case "ai.resume": case "ai.error":
        return this.answerChanged(frame);
      default: return undefined;
    }
  }

  welcomed_(frame) {
    this.welcomed = true;
    this.openedAt = Date.now();
    this.startPinging();
    this.presence = Array.isArray(frame.present) ? frame.present.slice() : [];
    this.online = this.presence.length;
    if (this.isInbox) {
      this.setState("open");
      this.emit("welcome", frame);
      this.loadInbox();
      return;
    }
    const recreated = this.epoch !== null && frame.epoch !== this.epoch;
    this.epoch = frame.epoch;
    if (recreated) {
      // The room was deleted and made again: its seq starts over.
      this.lastSeq = 0;
      this.buffered.clear();
      this.emit("reset", frame);
    }
    this.emit("welcome", frame);
    this.emit("presence", this.presence);
    if (this.lastSeq === null) {
      // A first connection without `after`: messages from now on.
      this.lastSeq = frame.lastSeq;
    }
    for (const pending of this.outbox.values()) this.transmit(pending.frame);
    if (frame.recovered || frame.lastSeq <= this.lastSeq) {
      this.setState("open");
    } else {
      this.sync();
    }
  }

  /** A stored message: delivered once, in seq order; a gap is filled from history first. */
  arrived(message) {
    if (this.isInbox || typeof message.seq !== "number") return;
    if (this.lastSeq !== null && message.seq <= this.lastSeq) return;
    if (this.state === "syncing" || (this.lastSeq !== null && message.seq > this.lastSeq + 1)) {
      this.buffered.set(message.seq, message);
      if (this.state !== "syncing") this.sync();
      return;
    }
    this.deliver(message);
  }

  deliver(message) {
    this.lastSeq = message.seq;
    this.emit("message", message);
  }

  /** Pages history after `lastSeq` until caught up, then delivers what arrived meanwhile. */
  async sync() {
    const socket = this.socket;
    this.setState("syncing");
    try {
      for (;;) {
        const response = await this.fetch(this.httpURL(`/messages?after=${this.lastSeq}&limit=500`), { headers: this.headers() });
        if (!response.ok) throw new RoomsError("history_failed", `history answered ${response.status}`);
        const { messages } = await response.json();
        if (socket !== this.socket) return;
        for (const message of messages) if (message.seq > this.lastSeq) this.deliver(message);
        if (messages.length < 500) break;
      }
      for (;;) {
        const next = this.buffered.get(this.lastSeq + 1);
        for (const seq of this.buffered.keys()) if (seq <= this.lastSeq) this.buffered.delete(seq);
        if (!next) break;
        this.buffered.delete(next.seq);
        this.deliver(next);
      }
      if (this.buffered.size > 0) return this.sync();
      this.setState("open");
    } catch (error) {
      if (socket !== this.socket) return;
      // The next connection tries again from lastSeq.
      this.socket?.close(4000, "sync_failed");
    }
  }

  acknowledged(ack) {
    const pending = this.outbox.get(ack.id);
    if (!pending) return;
    this.outbox.delete(ack.id);
    this.emit("outbox", { size: this.outbox.size, full: false });
    pending.resolve(ack);
  }

  refused(error) {
    const pending = error.id && this.outbox.get(error.id);
    if (pending) {
      this.outbox.delete(error.id);
      pending.reject(new RoomsError(error.code, error.message));
      return;
    }
    this.emit("error", new RoomsError(error.code, error.message));
  }

  /** Presence is per user: `join` is a user's first connection, `leave` their last; `count`
   * (a room over its `presenceLimit`) carries only how many are online. */
  presenceChanged(frame) {
    if (frame.event === "join") {
      if (!this.presence.some((entry) => entry.user === frame.user)) this.presence.push({ user: frame.user, connections: 1 });
    } else if (frame.event === "leave") {
      this.presence = this.presence.filter((entry) => entry.user !== frame.user);
    } else if (frame.event === "sync" && Array.isArray(frame.present)) {
      this.presence = frame.present.slice();
    }
    this.online = typeof frame.users === "number" ? frame.users : this.presence.length;
    this.emit("presence", this.presence);
  }

  answerChanged(frame) {
    let stream = this.streams.get(frame.stream);
    if (!stream || frame.type === "ai.start" || frame.type === "ai.resume") {
      stream = { stream: frame.stream, replyTo: frame.replyTo, text: "", index: 0, done: false };
      this.streams.set(frame.stream, stream);
    }
    if (frame.type === "ai.resume") {
      stream.text = frame.text ?? "";
      stream.index = frame.index ?? 0;
    } else if (frame.type === "ai.delta") {
      if (frame.index !== stream.index) return;
      stream.text += frame.text;
      stream.index += 1;
    } else if (frame.type === "ai.error") {
      stream.error = { code: frame.code, message: frame.message };
    } else if (frame.type === "ai.end") {
      stream.done = true;
      stream.status = frame.status;
      stream.seq = frame.seq;
    }
    this.emit("ai", stream);
  }

  async loadInbox() {
    try {
      const response = await this.fetch(this.httpURL("", "/inbox"), { headers: this.headers() });
      if (!response.ok) return;
      const { rooms } = await response.json();
      for (const room of rooms) this.inbox.set(`${room.kind}/${room.id}`, room);
      this.emit("inbox", [...this.inbox.values()]);
    } catch {}
  }

  inboxChanged(frame) {
    const room = frame.room;
    if (!room) return;
    const key = `${room.kind}/${room.id}`;
    if (room.removed) this.inbox.delete(key);
    else this.inbox.set(key, room);
    this.emit("inbox", [...this.inbox.values()]);
  }

  // MARK: - Sending

  transmit(frame) {
    const socket = this.socket;
    if (!socket || socket.readyState !== 1 || !this.welcomed) return false;
    try { socket.send(JSON.stringify(frame)); return true; } catch { return false; }
  }

  /**
   * Sends a chat message. While disconnected it waits in the outbox and is sent (again, with the
   * same `id`) after each reconnect until acknowledged; the server stores it once.
   * @param {string} text
   * @param {{id?: string, deliverAt?: number}} [options]
   * @returns {Promise<Ack>} settled by the server's `ack`, or rejected with its error code
   */
  send(text, options = {}) {
    if (this.stopped) return Promise.reject(new RoomsError("closed", "the client is closed"));
    const id = options.id ?? `c-${Date.now().toString(36)}-${Math.floor(this.options.random() * 2 ** 32).toString(36)}-${++this.counter}`;
    const frame = { type: "send", text, id };
    if (options.deliverAt !== undefined) frame.deliverAt = options.deliverAt;
    if (new TextEncoder().encode(JSON.stringify(frame)).length > this.options.maxFrameBytes) {
      return Promise.reject(new RoomsError("payload_too_large", "the message is larger than a frame may be"));
    }
    const existing = this.outbox.get(id);
    if (existing) return existing.promise;
    if (this.outbox.size >= this.options.outboxLimit) {
      this.emit("outbox", { size: this.outbox.size, full: true });
      return Promise.reject(new RoomsError("outbox_full", `${this.outbox.size} sends wait for their ack`));
    }
    let resolve, reject;
    const promise = new Promise((ok, fail) => { resolve = ok; reject = fail; });
    this.outbox.set(id, { frame, promise, resolve, reject });
    this.emit("outbox", { size: this.outbox.size, full: false });
    this.transmit(frame);
    return promise;
  }

  /** Marks every message up to `seq` read (sent when connected; a later read covers it). */
  read(seq) {
    return this.transmit({ type: "read", seq });
  }

  /** Tells the room the user is typing (the room throttles). */
  typing() {
    return this.transmit({ type: "typing" });
  }

  /** Sends a frame of the room's own (games, counters, AI prompts) when connected. */
  sendFrame(frame) {
    return this.transmit(frame);
  }

  /**
   * Pages history: messages after `after` (ascending), or the newest before `before`.
   * @returns {Promise<Message[]>}
   */
  async history({ after, before, limit = 50 } = {}) {
    const query = new URLSearchParams({ limit: String(limit) });
    if (after !== undefined) query.set("after", String(after));
    if (before !== undefined) query.set("before", String(before));
    const response = await this.fetch(this.httpURL(`/messages?${query}`), { headers: this.headers() });
    const body = await response.json();
    if (!response.ok) throw new RoomsError(body?.error?.code ?? String(response.status), body?.error?.message);
    return body.messages;
  }

  // MARK: - HTTP

  /** The HTTP URL of the room (or of `base`) with `suffix`, the user and no token. */
  httpURL(suffix, base) {
    const url = new URL(this.url);
    url.protocol = url.protocol === "wss:" ? "https:" : "http:";
    const user = url.searchParams.get("user");
    const path = base ?? url.pathname.replace(/\/ws$/, "");
    const target = new URL(path + suffix, url.origin);
    if (user && !target.searchParams.has("user")) target.searchParams.set("user", user);
    return target.toString();
  }

  headers() {
    return this.token ? { Authorization: `Bearer ${this.token}` } : {};
  }
}

// MARK: - Documents

/**
 * Operational transformation of plain text, in the shape the `doc` room speaks: an operation is a
 * list of `{retain: n}`, `{insert: "text"}` and `{delete: n}` walking the whole document; positions
 * count UTF-16 code units (what JavaScript strings and text fields use). The same functions as the
 * room's `TextOperation` (Sources/ExampleRooms/Document).
 */
export const TextOps = {
  /** Builds a normalized operation from components (merging neighbours, an insert before a delete). */
  normalize(components) {
    const out = [];
    for (const c of components) {
      if (c.retain > 0) {
        const last = out[out.length - 1];
        if (last?.retain) last.retain += c.retain; else out.push({ retain: c.retain });
      } else if (typeof c.insert === "string" && c.insert.length > 0) {
        const last = out[out.length - 1];
        if (last?.insert !== undefined) last.insert += c.insert;
        else if (last?.delete) {
          const before = out[out.length - 2];
          if (before?.insert !== undefined) before.insert += c.insert;
          else out.splice(out.length - 1, 0, { insert: c.insert });
        } else out.push({ insert: c.insert });
      } else if (c.delete > 0) {
        const last = out[out.length - 1];
        if (last?.delete) last.delete += c.delete; else out.push({ delete: c.delete });
      }
    }
    return out;
  },

  /** Positions the operation spans (retained and deleted). */
  baseLength(op) {
    return op.reduce((n, c) => n + (c.retain ?? 0) + (c.delete ?? 0), 0);
  },

  /** The operation padded with a retain to span a document of `length`. */
  pad(op, length) {
    const missing = length - TextOps.baseLength(op);
    return missing > 0 ? TextOps.normalize([...op, { retain: missing }]) : op;
  },

  /** The operation without a trailing retain (what goes on the wire). */
  trim(op) {
    return op.length && op[op.length - 1].retain ? op.slice(0, -1) : op;
  },

  /** Applies `op` to `text` (a trailing retain may be missing). */
  apply(text, op) {
    let out = "";
    let at = 0;
    for (const c of op) {
      if (c.retain) { out += text.slice(at, at + c.retain); at += c.retain; }
      else if (c.insert !== undefined) out += c.insert;
      else { at += c.delete; }
    }
    if (at > text.length) throw new RoomsError("invalid_operation", `the operation spans ${at} positions; the text has ${text.length}`);
    return out + text.slice(at);
  },

  /** Two operations on one text → [a′, b′]: a then b′ equals b then a′; a's inserts go first at a tie. */
  transform(a, b) {
    const length = Math.max(TextOps.baseLength(a), TextOps.baseLength(b));
    const left = TextOps.pad(a, length).map((c) => ({ ...c }));
    const right = TextOps.pad(b, length).map((c) => ({ ...c }));
    const aPrime = [];
    const bPrime = [];
    let i = 0;
    let j = 0;
    while (i < left.length || j < right.length) {
      const l = left[i];
      const r = right[j];
      if (l?.insert !== undefined) { aPrime.push({ insert: l.insert }); bPrime.push({ retain: l.insert.length }); i++; continue; }
      if (r?.insert !== undefined) { aPrime.push({ retain: r.insert.length }); bPrime.push({ insert: r.insert }); j++; continue; }
      const ln = l.retain ?? l.delete;
      const rn = r.retain ?? r.delete;
      const n = Math.min(ln, rn);
      if (l.retain && r.retain) { aPrime.push({ retain: n }); bPrime.push({ retain: n }); }
      else if (l.delete && r.retain) aPrime.push({ delete: n });
      else if (l.retain && r.delete) bPrime.push({ delete: n });
      if (ln === n) i++; else if (l.retain) l.retain -= n; else l.delete -= n;
      if (rn === n) j++; else if (r.retain) r.retain -= n; else r.delete -= n;
    }
    return [TextOps.normalize(aPrime), TextOps.normalize(bPrime)];
  },

  /** One operation doing `a` then `b` (b applies to a's result). */
  compose(a, b) {
    const left = a.map((c) => ({ ...c }));
    const right = b.map((c) => ({ ...c }));
    const out = [];
    let i = 0;
    let j = 0;
    for (;;) {
      const l = left[i];
      const r = right[j];
      if (!l && !r) break;
      if (l?.delete) { out.push({ delete: l.delete }); i++; continue; }
      if (r?.insert !== undefined) { out.push({ insert: r.insert }); j++; continue; }
      if (!l) { out.push({ ...r }); j++; continue; }   // b runs past a's end: implicit retain
      if (!r) { out.push({ ...l }); i++; continue; }
      const ln = l.retain ?? l.insert.length;
      const rn = r.retain ?? r.delete;
      const n = Math.min(ln, rn);
      if (l.retain && r.retain) out.push({ retain: n });
      else if (l.retain && r.delete) out.push({ delete: n });
      else if (l.insert !== undefined && r.retain) out.push({ insert: l.insert.slice(0, n) });
      // an insert then deleted: nothing
      if (ln === n) i++; else if (l.retain) l.retain -= n; else l.insert = l.insert.slice(n);
      if (rn === n) j++; else if (r.retain) r.retain -= n; else r.delete -= n;
    }
    return TextOps.normalize(out);
  },

  /** Where `position` moves when `op` applies (after an insert at that very place if `afterInserts`). */
  transformPosition(position, op, afterInserts = true) {
    let moved = position;
    let walked = 0;
    for (const c of op) {
      if (walked > position) break;
      if (c.retain) walked += c.retain;
      else if (c.insert !== undefined) { if (walked < position || afterInserts) moved += c.insert.length; }
      else { moved -= Math.min(c.delete, position - walked); walked += c.delete; }
    }
    return moved;
  },

  /** An operation turning `from` into `to`: the common start and end kept, the middle replaced
   * (never cutting a surrogate pair). What a text field's `input` event needs. */
  diff(from, to) {
    let start = 0;
    const max = Math.min(from.length, to.length);
    while (start < max && from.charCodeAt(start) === to.charCodeAt(start)) start++;
    if (start > 0 && isLead(from.charCodeAt(start - 1)) && start < max + 1) start--;
    let end = 0;
    while (end < max - start && from.charCodeAt(from.length - 1 - end) === to.charCodeAt(to.length - 1 - end)) end++;
    if (end > 0 && isTrail(from.charCodeAt(from.length - end))) end--;
    return TextOps.normalize([
      { retain: start }, { delete: from.length - start - end }, { insert: to.slice(start, to.length - end) }, { retain: end },
    ]);
  },
};

const isLead = (unit) => unit >= 0xd800 && unit < 0xdc00;
const isTrail = (unit) => unit >= 0xdc00 && unit < 0xe000;

/**
 * A `doc` room's text, kept in step with everyone editing it: local edits apply at once and go to
 * the room one at a time (the classic OT client: synchronized, awaiting confirm, awaiting with a
 * buffer); the room's operations are transformed against the ones not yet acknowledged. Across
 * reconnects it resumes from its version, resends what was not acknowledged with the same id, and
 * loses no edit.
 */
export class DocumentClient extends RoomClient {
  constructor(url, options = {}) {
    super(url, options);
    /** The text as the app shows it: the room's, with the local edits not yet acknowledged. */
    this.text = "";
    /** The room's version this client has seen (null before the first `doc`). */
    this.version = null;
    /** The room's text at `version`. */
    this.serverText = "";
    /** The edit sent and not yet acknowledged: {id, ops, base}. */
    this.outstanding = null;
    /** Local edits made while one waits: one composed operation. */
    this.buffer = null;
    /** Other people's selections in `text`: Map user → {anchor, head}. */
    this.cursors = new Map();
    this.localCursor = null;
    this.loaded = false;
  }

  /** Whether local edits wait for the room. */
  get pending() {
    return this.outstanding !== null || this.buffer !== null;
  }

  // MARK: Editing

  /** Applies a local edit (`ops` on the current `text`, a trailing retain optional) and sends it. */
  edit(ops) {
    if (this.stopped) throw new RoomsError("closed", "the client is closed");
    if (!this.loaded) throw new RoomsError("not_loaded", "wait for the document (the `change` event) before editing");
    const op = TextOps.pad(TextOps.normalize(ops), this.text.length);
    if (TextOps.baseLength(op) !== this.text.length) throw new RoomsError("invalid_operation", "the edit spans more than the text");
    this.text = TextOps.apply(this.text, op);
    this.moveCursors(op);
    if (this.outstanding === null) this.submit(op);
    else this.buffer = this.buffer ? TextOps.compose(this.buffer, op) : op;
    this.emit("change", { text: this.text, ops: op, remote: false });
  }

  /** Replaces `from..<to` (UTF-16 positions) with `text`. */
  replace(from, to, text) {
    this.edit([{ retain: from }, { delete: to - from }, { insert: text }]);
  }

  /** Makes the text `next` (what a text field holds after an `input` event). */
  setText(next) {
    if (next !== this.text) this.edit(TextOps.diff(this.text, next));
  }

  /** Shares the local selection; sent when no edit waits (else after the acknowledgement). */
  setCursor(anchor, head = anchor) {
    this.localCursor = { anchor, head };
    this.sendCursor();
  }

  sendCursor() {
    if (!this.localCursor || this.pending || this.version === null) return;
    this.transmit({ type: "cursor", ...this.localCursor, version: this.version });
  }

  submit(op) {
    this.outstanding = { id: `d-${Date.now().toString(36)}-${Math.floor(this.options.random() * 2 ** 32).toString(36)}-${++this.counter}`, ops: op, base: this.version };
    this.transmit({ type: "op", id: this.outstanding.id, base: this.version, ops: TextOps.trim(op) });
    this.emit("pending", true);
  }

  // MARK: Frames

  welcomed_(frame) {
    this.welcomed = true;
    this.openedAt = Date.now();
    this.startPinging();
    const recreated = this.epoch !== null && frame.epoch !== this.epoch;
    this.epoch = frame.epoch;
    this.me = frame.user;
    this.emit("welcome", frame);
    if (recreated) {
      // The room was deleted and made again: what was edited before is gone with it.
      this.outstanding = null;
      this.buffer = null;
      this.version = null;
      this.lastSeq = null;
      this.emit("reset", frame);
    }
    this.cursors.clear();
    if (frame.recovered) {
      // The missed operations follow; the room transforms a resent edit against them too.
      this.setState("open");
      if (this.outstanding) this.transmit({ type: "op", id: this.outstanding.id, base: this.version, ops: TextOps.trim(this.outstanding.ops) });
    } else {
      this.setState("syncing");
    }
  }

  handle(frame) {
    switch (frame.type) {
      case "doc": return this.loadedDocument(frame);
      case "op": return this.remote(frame);
      case "op.ack": return this.acknowledged_(frame.id, frame.version);
      case "cursor":
        if (frame.user === this.me || typeof frame.anchor !== "number") return;
        this.cursors.set(frame.user, this.throughPending({ anchor: frame.anchor, head: frame.head }));
        return this.emit("cursors", this.cursors);
      case "cursor.leave":
        this.cursors.delete(frame.user);
        return this.emit("cursors", this.cursors);
      case "error":
        if (this.outstanding && frame.id === this.outstanding.id) return this.refusedEdit(frame);
        return super.handle(frame);
      default: return super.handle(frame);
    }
  }

  /** The whole text: a first load, or a reconnect the log no longer covers. */
  loadedDocument(frame) {
    if (this.pending && this.loaded) {
      // Offline longer than the room keeps its log: learn whether the edit in flight was stored
      // (its id answers), then merge what is left into the room's text.
      this.reloaded = frame;
      this.transmit({ type: "op", id: this.outstanding.id, base: this.outstanding.base, ops: TextOps.trim(this.outstanding.ops) });
      return;
    }
    this.outstanding = null;
    this.buffer = null;
    this.accept(frame.version, frame.text, frame.text);
  }

  /** Settles a reload: `stored` says whether the edit in flight made it before. */
  merge(stored) {
    const frame = this.reloaded;
    this.reloaded = null;
    let ours = stored ? this.buffer : this.buffer ? TextOps.compose(this.outstanding.ops, this.buffer) : this.outstanding.ops;
    const base = stored ? TextOps.apply(this.serverText, this.outstanding.ops) : this.serverText;
    this.outstanding = null;
    this.buffer = null;
    let text = frame.text;
    if (ours) {
      const theirs = TextOps.diff(base, frame.text);
      ours = TextOps.transform(TextOps.pad(ours, base.length), theirs)[0];
      text = TextOps.apply(frame.text, ours);
    }
    this.accept(frame.version, frame.text, text);
    if (ours && ours.some((c) => c.retain === undefined)) this.submit(ours);
  }

  accept(version, serverText, text) {
    this.version = version;
    this.lastSeq = version;
    this.serverText = serverText;
    const change = text !== this.text || !this.loaded;
    this.text = text;
    this.loaded = true;
    this.setState("open");
    if (change) this.emit("change", { text: this.text, ops: null, remote: true });
    this.sendCursor();
  }

  /** Someone else's operation (or, in a resume, possibly our own in flight: its id says so). */
  remote(frame) {
    if (!this.loaded || typeof frame.version !== "number" || frame.version <= this.version) return;
    if (this.outstanding && frame.id === this.outstanding.id && frame.user === this.me) return this.acknowledged_(frame.id, frame.version);
    const op = TextOps.pad(frame.ops, this.serverText.length);
    this.serverText = TextOps.apply(this.serverText, op);
    this.version = frame.version;
    this.lastSeq = frame.version;
    let theirs = op;
    if (this.outstanding) {
      [this.outstanding.ops, theirs] = TextOps.transform(this.outstanding.ops, theirs);
      this.outstanding.base = frame.version;
    }
    if (this.buffer) [this.buffer, theirs] = TextOps.transform(this.buffer, theirs);
    this.text = TextOps.apply(this.text, theirs);
    this.moveCursors(theirs);
    this.emit("change", { text: this.text, ops: theirs, remote: true, user: frame.user });
  }

  acknowledged_(id, version) {
    if (!this.outstanding || id !== this.outstanding.id) return;
    if (this.reloaded) return this.merge(true);
    this.serverText = TextOps.apply(this.serverText, this.outstanding.ops);
    this.version = version;
    this.lastSeq = version;
    this.outstanding = null;
    if (this.buffer) {
      const next = this.buffer;
      this.buffer = null;
      this.submit(next);
    } else {
      this.emit("pending", false);
      this.sendCursor();
    }
  }

  refusedEdit(frame) {
    // Answering a resend after a reload: not stored before (its base is gone), so merge it.
    if (this.reloaded) return this.merge(false);
    // The room refused the edit (too large, say): drop it and what was built on it, and take the
    // room's text again.
    const error = new RoomsError(frame.code, frame.message);
    this.outstanding = null;
    this.buffer = null;
    this.text = this.serverText;
    this.emit("change", { text: this.text, ops: null, remote: true });
    this.emit("error", error);
  }

  /** A remote selection (at the room's version) moved into `text` through the waiting edits. */
  throughPending(cursor) {
    let { anchor, head } = cursor;
    for (const op of [this.outstanding?.ops, this.buffer]) {
      if (!op) continue;
      anchor = TextOps.transformPosition(anchor, op, false);
      head = TextOps.transformPosition(head, op, false);
    }
    return { anchor, head };
  }

  moveCursors(op) {
    for (const [user, cursor] of this.cursors) {
      this.cursors.set(user, { anchor: TextOps.transformPosition(cursor.anchor, op, false), head: TextOps.transformPosition(cursor.head, op, false) });
    }
  }
}

/**
 * Connects to a `doc` room and keeps its text in step (see `DocumentClient`).
 * @param {string} url `ws[s]://HOST/rooms/{kind}/{id}/ws`
 */
export function connectDocument(url, options) {
  return new DocumentClient(url, options).start();
}

/**
 * Connects to a room (or to `/inbox/ws`) and keeps it connected.
 * @param {string} url
 * @param {ConstructorParameters<typeof RoomClient>[1]} [options]
 */
export function connect(url, options) {
  return new RoomClient(url, options).start();
}
