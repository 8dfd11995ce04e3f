// The DurableRooms web app (docs/CLIENTS.md, "The web app"): sign in, the inbox with unread
// counts, chat rooms with history, presence, typing and read ticks, direct rooms, AI rooms whose
// answers stream in, and documents everyone edits at once. Plain DOM on top of the JavaScript
// client (rooms.js); no build step.

import { connect, connectDocument, RoomsError, TextOps } from "/rooms.js";

const $ = (selector, root = document) => root.querySelector(selector);
const store = {
  get: (key, fallback) => { try { return JSON.parse(localStorage.getItem(`rooms.${key}`)) ?? fallback; } catch { return fallback; } },
  set: (key, value) => localStorage.setItem(`rooms.${key}`, JSON.stringify(value)),
  remove: (key) => localStorage.removeItem(`rooms.${key}`),
};

/** Builds an element: `h("div", {class: "x", onclick}, child, "text")`. */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

function clock(ts) {
  return new Date(ts).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** The payload of a JSON Web Token (not verified: the server does that), or null. */
function claims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(decodeURIComponent(escape(atob(part))));
  } catch {
    return null;
  }
}

// MARK: - Session: who is signed in, and how to reach the server as them

class Session {
  constructor(settings, user, token) {
    this.settings = settings;
    this.user = user;
    this.token = token;
  }

  /** A WebSocket URL for `path` (`/rooms/chat/x/ws`, `/inbox/ws`). */
  socketURL(path) {
    const url = new URL(path, location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    if (!this.token) url.searchParams.set("user", this.user);
    return url.toString();
  }

  /** An HTTP request to the server as the user; the JSON answer, or a RoomsError. */
  async request(method, path, body) {
    const url = new URL(path, location.href);
    if (!this.token) url.searchParams.set("user", this.user);
    const headers = { ...(body ? { "Content-Type": "application/json" } : {}), ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}) };
    const response = await fetch(url, { method, headers, body: body ? JSON.stringify(body) : undefined });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new RoomsError(answer?.error?.code ?? String(response.status), answer?.error?.message ?? response.statusText);
    return answer;
  }

  options() {
    return this.token ? { token: this.token, getToken: () => this.freshToken() } : {};
  }

  /** A token that expired: ask for a new one (the app has no identity provider of its own). */
  async freshToken() {
    const token = prompt("Your token expired. Paste a new one:");
    if (!token) throw new RoomsError("token_expired", "no new token");
    this.token = token.trim();
    store.set("token", this.token);
    return this.token;
  }

  kind(name) {
    return this.settings.kinds.find((kind) => kind.kind === name);
  }

  /** Kinds whose rooms are chats (the app shows chats, AI rooms included). */
  chatKinds(access) {
    return this.settings.kinds.filter((kind) => ["chat", "ai-chat"].includes(kind.class) && kind.access === access);
  }

  /** The kinds of class `doc` (documents are open rooms). */
  docKinds() {
    return this.settings.kinds.filter((kind) => kind.class === "doc" && kind.access === "open");
  }
}

// MARK: - The sign-in page

function signIn(settings, done) {
  const jwt = settings.auth !== "none";
  const field = jwt
    ? h("textarea", { id: "signin-token", rows: 4, placeholder: "eyJhbGciOi…", required: true, autocomplete: "off" })
    : h("input", { id: "signin-name", placeholder: "your name", maxlength: 128, required: true, autocomplete: "username" });
  const error = h("p", { class: "error", id: "signin-error", role: "alert" });
  const form = h("form", {
    class: "signin",
    onsubmit: (event) => {
      event.preventDefault();
      const value = field.value.trim();
      if (!jwt) return done(new Session(settings, value, null));
      const payload = claims(value);
      if (!payload?.sub) return (error.textContent = "That is not a token with a user (sub).");
      if (payload.exp && payload.exp * 1000 < Date.now()) return (error.textContent = "That token has expired.");
      done(new Session(settings, payload.sub, value));
    },
  },
  h("h1", {}, "DurableRooms"),
  h("label", { for: field.id }, jwt ? "Paste your token" : "Pick a name"),
  field, error,
  h("button", { id: "signin-go", type: "submit" }, "Sign in"));
  document.body.replaceChildren(form);
  field.focus();
}

// MARK: - The room list: the inbox, and rooms opened by name

class RoomList {
  constructor(app) {
    this.app = app;
    this.session = app.session;
    this.element = h("ul", { id: "room-list", class: "room-list" });
    this.recent = store.get(`recent.${this.session.user}`, []);
    this.rooms = new Map();
    this.inbox = connect(this.session.socketURL("/inbox/ws"), this.session.options());
    this.inbox.on("inbox", (rooms) => this.render(rooms));
    this.inbox.on("closed", ({ code, reason }) => app.failed(`The inbox closed (${code} ${reason}).`));
  }

  /** Remembers an open room (open rooms are in no inbox). */
  remember(kind, id) {
    this.recent = [{ kind, id }, ...this.recent.filter((room) => room.kind !== kind || room.id !== id)].slice(0, 20);
    store.set(`recent.${this.session.user}`, this.recent);
    this.render([...this.inbox.inbox.values()]);
  }

  forget(kind, id) {
    this.recent = this.recent.filter((room) => room.kind !== kind || room.id !== id);
    store.set(`recent.${this.session.user}`, this.recent);
    this.render([...this.inbox.inbox.values()]);
  }

  render(inboxRooms = [...this.inbox.inbox.values()]) {
    const rooms = inboxRooms.filter((room) => !room.removed).sort((a, b) => (b.updatedAt ?? 0) - (a.updatedAt ?? 0));
    const listed = new Set(rooms.map((room) => `${room.kind}/${room.id}`));
    const items = rooms.concat(this.recent.filter((room) => !listed.has(`${room.kind}/${room.id}`)));
    this.element.replaceChildren(...items.map((room) => {
      const key = `${room.kind}/${room.id}`;
      this.app.nameDirect(room.kind, room.id);
      const active = this.app.chat && this.app.chat.key === key;
      return h("li", {
        class: `room-item${active ? " active" : ""}`, "data-room": key,
        onclick: () => this.app.open(room.kind, room.id),
      },
      h("span", { class: "room-name" }, this.app.title(room.kind, room.id)),
      room.last ? h("span", { class: "room-last" }, `${room.last.user}: ${room.last.text}`) : null,
      room.unread ? h("span", { class: "unread", title: `${room.unread} unread` }, String(room.unread)) : null);
    }));
    if (!items.length) this.element.append(h("li", { class: "empty" }, "No rooms yet: open one or message someone."));
  }
}

// MARK: - A room's view

/** What every room's view knows: the app, who is signed in, and which room (`path` is its HTTP path). */
class RoomView {
  constructor(app, kind, id) {
    this.app = app;
    this.session = app.session;
    this.kind = kind;
    this.id = id;
    this.key = `${kind}/${id}`;
    this.path = `/rooms/${encodeURIComponent(kind)}/${encodeURIComponent(id)}`;
  }
}

// MARK: - A chat view

class ChatView extends RoomView {
  constructor(app, kind, id) {
    super(app, kind, id);
    this.isAI = this.session.kind(kind)?.class === "ai-chat";
    this.elements = new Map(); // seq → element
    this.pending = new Map(); // send id → element
    this.typists = new Map(); // user → timer
    this.receipts = new Map();
    this.oldest = null;
    this.exhausted = false;
    this.build();
    this.room = connect(this.session.socketURL(`${this.path}/ws`), this.session.options());
    this.room.on("state", (state) => { this.stateLine.textContent = state; this.stateLine.dataset.state = state; });
    this.room.on("welcome", (welcome) => this.welcomed(welcome));
    this.room.on("reset", () => { this.messages.replaceChildren(); this.elements.clear(); this.oldest = null; this.exhausted = false; });
    this.room.on("message", (message) => { this.show(message); this.stopTyping(message.user); this.markRead(); });
    this.room.on("presence", (present) => this.showPresence(present));
    this.room.on("typing", ({ user }) => this.startTyping(user));
    this.room.on("receipt", ({ user, seq }) => { this.receipts.set(user, seq); this.tick(); });
    this.room.on("ai", (stream) => this.showStream(stream));
    this.room.on("closed", ({ code, reason }) => this.closed(code, reason));
    // A refusal not tied to a send (a prompt while the assistant is busy, say).
    this.room.on("error", (error) => { this.error.textContent = `${error.message} (${error.code})`; });
  }

  build() {
    this.title = h("h2", { id: "chat-title" }, this.app.title(this.kind, this.id));
    this.presence = h("p", { id: "presence", class: "presence" });
    this.stateLine = h("span", { id: "state", class: "state" }, "connecting");
    this.typingLine = h("p", { id: "typing", class: "typing", "aria-live": "polite" });
    this.older = h("button", { id: "older", class: "older", type: "button", onclick: () => this.loadOlder() }, "Older messages");
    this.messages = h("ol", { id: "messages", class: "messages" });
    this.scroller = h("div", { class: "scroller", onscroll: () => { if (this.scroller.scrollTop < 40) this.loadOlder(); } }, this.older, this.messages);
    this.text = h("textarea", {
      id: "composer-text", rows: 1, placeholder: this.isAI ? "Message (the assistant answers)" : "Message", maxlength: 4000,
      oninput: () => this.room.typing(),
      onkeydown: (event) => { if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); this.submit(); } },
    });
    this.ask = this.isAI ? h("label", { class: "ask" }, h("input", { type: "checkbox", id: "composer-ask", checked: true }), " ask the assistant") : null;
    this.error = h("p", { id: "chat-error", class: "error", role: "alert" });
    this.element = h("section", { class: "chat", id: "chat", "data-room": this.key },
      h("header", {},
        h("button", { class: "back", type: "button", onclick: () => this.app.showList(), "aria-label": "Back to rooms" }, "‹"),
        h("div", { class: "heading" }, this.title, this.presence), this.stateLine),
      this.scroller, this.typingLine, this.error,
      h("form", { class: "composer", onsubmit: (event) => { event.preventDefault(); this.submit(); } },
        this.text, h("div", { class: "send" }, this.ask, h("button", { id: "composer-send", type: "submit" }, "Send"))));
  }

  async welcomed(welcome) {
    if (this.oldest === null) {
      // The newest page of history, up to what the room had when we joined; live messages
      // (seq > lastSeq) come through the client.
      this.oldest = welcome.lastSeq + 1;
      await this.loadOlder(true);
    }
    this.session.request("GET", `${this.path}/receipts`)
      .then(({ receipts }) => { for (const r of receipts) this.receipts.set(r.user, Math.max(r.readSeq, this.receipts.get(r.user) ?? 0)); this.tick(); })
      .catch(() => {});
    this.markRead();
  }

  async loadOlder(first = false) {
    if (this.loading || this.exhausted || this.oldest === null || this.oldest <= 1) {
      if (this.oldest !== null && this.oldest <= 1) this.older.hidden = true;
      return;
    }
    this.loading = true;
    const height = this.scroller.scrollHeight;
    try {
      const page = await this.room.history({ before: this.oldest, limit: 50 });
      for (const message of page) this.show(message);
      if (page.length) this.oldest = page[0].seq;
      if (page.length < 50 || this.oldest <= 1) { this.exhausted = true; this.older.hidden = true; }
      if (first) this.scrollDown();
      else this.scroller.scrollTop += this.scroller.scrollHeight - height;
    } catch (error) {
      this.error.textContent = `History: ${error.message}`;
    } finally {
      this.loading = false;
    }
  }

  /** Shows a stored message in its place by seq (once: a message already shown is kept). */
  show(message) {
    if (this.elements.has(message.seq)) return;
    const mine = message.user === this.session.user;
    const element = h("li", { class: `msg${mine ? " mine" : ""}${message.stream ? " assistant" : ""}`, "data-seq": message.seq, "data-id": message.id },
      h("span", { class: "who" }, message.user),
      h("span", { class: "text" }, message.text),
      h("span", { class: "meta" }, clock(message.ts), mine ? h("span", { class: "tick", title: "stored" }, "✓") : null));
    this.elements.set(message.seq, element);
    this.pending.get(message.id)?.remove();
    this.pending.delete(message.id);
    if (message.stream) $(`[data-stream="${CSS.escape(message.stream)}"]`, this.messages)?.remove();
    const next = [...this.elements.keys()].filter((seq) => seq > message.seq).sort((a, b) => a - b)[0];
    const stick = this.nearBottom();
    this.messages.insertBefore(element, next === undefined ? this.firstLive() : this.elements.get(next));
    this.tick();
    if (stick) this.scrollDown();
  }

  /** Where stored messages end: pending sends and streaming answers come after them. */
  firstLive() {
    return $(".msg.pending, .msg.stream", this.messages);
  }

  submit() {
    const text = this.text.value.trim();
    if (!text) return;
    this.error.textContent = "";
    if (this.isAI && $("#composer-ask", this.element)?.checked) {
      // A prompt is stored as a message like any other, then answered. Unlike `send` it has no
      // outbox: it goes only while connected.
      const id = `p-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
      if (!this.room.sendFrame({ type: "ai.prompt", id, text })) {
        this.error.textContent = "Not connected: ask again once the room is back.";
        return;
      }
      this.text.value = "";
      return;
    }
    this.text.value = "";
    const id = `w-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    const element = h("li", { class: "msg mine pending", "data-id": id },
      h("span", { class: "who" }, this.session.user), h("span", { class: "text" }, text),
      h("span", { class: "meta" }, h("span", { class: "tick", title: "sending" }, "🕓")));
    this.pending.set(id, element);
    this.messages.append(element);
    this.scrollDown();
    this.room.send(text, { id }).catch((error) => {
      element.classList.add("failed");
      $(".tick", element).textContent = "!";
      this.error.textContent = `Not sent: ${error.message} (${error.code})`;
    });
  }

  /** Read ticks: ✓ stored, ✓✓ read by someone else. */
  tick() {
    const others = [...this.receipts].filter(([user]) => user !== this.session.user).map(([, seq]) => seq);
    const read = others.length ? Math.max(...others) : 0;
    for (const [seq, element] of this.elements) {
      const tick = element.classList.contains("mine") && $(".tick", element);
      if (!tick) continue;
      const seen = seq <= read;
      tick.textContent = seen ? "✓✓" : "✓";
      tick.title = seen ? "read" : "stored";
      tick.classList.toggle("read", seen);
    }
  }

  markRead() {
    clearTimeout(this.readTimer);
    this.readTimer = setTimeout(() => {
      const last = this.room.lastSeq;
      if (document.visibilityState === "visible" && last && last > (this.readSent ?? 0) && this.room.read(last)) {
        this.readSent = last;
      }
    }, 300);
  }

  showPresence(present) {
    const names = present.map((entry) => entry.user);
    this.presence.textContent = names.length ? `online: ${names.join(", ")}` : "";
    this.presence.dataset.users = names.join(",");
  }

  startTyping(user) {
    if (user === this.session.user) return;
    clearTimeout(this.typists.get(user));
    this.typists.set(user, setTimeout(() => this.stopTyping(user), 5000));
    this.showTyping();
  }

  stopTyping(user) {
    clearTimeout(this.typists.get(user));
    if (this.typists.delete(user)) this.showTyping();
  }

  showTyping() {
    const users = [...this.typists.keys()];
    this.typingLine.textContent = users.length ? `${users.join(", ")} ${users.length > 1 ? "are" : "is"} typing…` : "";
  }

  /** An AI answer as it streams: one element per stream, replaced by the stored message. */
  showStream(stream) {
    if (stream.seq !== undefined && this.elements.has(stream.seq)) return;
    let element = $(`[data-stream="${CSS.escape(stream.stream)}"]`, this.messages);
    if (!element) {
      element = h("li", { class: "msg stream assistant", "data-stream": stream.stream },
        h("span", { class: "who" }, "assistant"), h("span", { class: "text" }), h("span", { class: "meta" }));
      const stick = this.nearBottom();
      this.messages.append(element);
      if (stick) this.scrollDown();
    }
    $(".text", element).textContent = stream.text;
    $(".meta", element).textContent = stream.done ? (stream.status ?? "") : "…";
    element.classList.toggle("done", stream.done);
    if (stream.error) $(".meta", element).textContent = stream.error.message;
  }

  closed(code, reason) {
    const why = { 4403: "You are no longer allowed in this room.", 4404: "This room was deleted.", 4401: "Your token was refused." }[code];
    this.error.textContent = `${why ?? "The room closed."} (${code}${reason ? ` ${reason}` : ""})`;
    this.text.disabled = true;
    if (code === 4404 || code === 4403) this.app.list.forget(this.kind, this.id);
  }

  nearBottom() {
    return this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight < 80;
  }

  scrollDown() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  close() {
    this.room.close();
    for (const timer of this.typists.values()) clearTimeout(timer);
    clearTimeout(this.readTimer);
  }
}

// MARK: - A document view

/** A `doc` room: a text everyone edits at once, the others' cursors, and the stored versions. */
class DocumentView extends RoomView {
  constructor(app, kind, id) {
    super(app, kind, id);
    this.build();
    this.doc = connectDocument(this.session.socketURL(`${this.path}/ws`), this.session.options());
    this.doc.on("state", (state) => { this.stateLine.textContent = state; this.stateLine.dataset.state = state; });
    this.doc.on("change", (change) => this.changed(change));
    this.doc.on("cursors", () => this.showCursors());
    this.doc.on("pending", (pending) => { this.element.dataset.pending = String(pending); });
    this.doc.on("closed", ({ code, reason }) => {
      this.error.textContent = `The document closed (${code}${reason ? ` ${reason}` : ""}).`;
      this.text.disabled = true;
      if (code === 4404 || code === 4403) this.app.list.forget(this.kind, this.id);
    });
    this.doc.on("error", (error) => { this.error.textContent = `${error.message} (${error.code})`; });
    this.onSelection = () => { if (document.activeElement === this.text) this.shareCursor(); };
    document.addEventListener("selectionchange", this.onSelection);
  }

  build() {
    this.title = h("h2", { id: "chat-title" }, this.app.title(this.kind, this.id));
    this.stateLine = h("span", { id: "state", class: "state" }, "connecting");
    this.cursorLine = h("p", { id: "doc-cursors", class: "presence" });
    this.text = h("textarea", {
      id: "doc-text", class: "doc-text", disabled: true, spellcheck: "false", "aria-label": "the document",
      oninput: () => this.typed(), onscroll: () => { this.mirror.scrollTop = this.text.scrollTop; },
      onkeyup: () => this.shareCursor(), onclick: () => this.shareCursor(), onselect: () => this.shareCursor(),
    });
    this.mirror = h("div", { class: "doc-mirror", "aria-hidden": "true" });
    this.versions = h("ol", { id: "doc-versions", class: "doc-versions" });
    this.reading = h("pre", { id: "doc-reading", class: "doc-reading", hidden: true });
    this.error = h("p", { id: "chat-error", class: "error", role: "alert" });
    this.element = h("section", { class: "chat doc", id: "chat", "data-room": this.key },
      h("header", {},
        h("button", { class: "back", type: "button", onclick: () => this.app.showList(), "aria-label": "Back to rooms" }, "‹"),
        h("div", { class: "heading" }, this.title, this.cursorLine),
        h("button", { id: "doc-versions-button", type: "button", onclick: () => this.toggleVersions() }, "Versions"),
        this.stateLine),
      this.error,
      h("div", { class: "doc-body" }, h("div", { class: "doc-editor" }, this.mirror, this.text), this.versions, this.reading));
    this.versions.hidden = true;
  }

  /** The text changed: a remote edit keeps the local selection where it was in the text. */
  changed({ text, ops, remote }) {
    this.text.disabled = false;
    if (remote && this.text.value !== text) {
      const focused = document.activeElement === this.text;
      let { selectionStart: start, selectionEnd: end } = this.text;
      if (ops) {
        start = TextOps.transformPosition(start, ops, false);
        end = TextOps.transformPosition(end, ops, false);
      }
      this.text.value = text;
      if (focused) this.text.setSelectionRange(Math.min(start, text.length), Math.min(end, text.length));
    }
    this.element.dataset.version = String(this.doc.version);
    this.showCursors();
  }

  typed() {
    try {
      this.doc.setText(this.text.value);
      this.shareCursor();
    } catch (error) {
      this.error.textContent = `${error.message}`;
      this.text.value = this.doc.text;
    }
  }

  shareCursor() {
    const { selectionStart: anchor, selectionEnd: head } = this.text;
    if (this.lastCursor?.anchor === anchor && this.lastCursor?.head === head) return;
    this.lastCursor = { anchor, head };
    this.doc.setCursor(anchor, head);
  }

  /** Draws the others' carets in a mirror of the text behind the text field. */
  showCursors() {
    const text = this.doc.text;
    const carets = [...this.doc.cursors.entries()]
      .map(([user, cursor]) => ({ user, at: Math.min(cursor.head, text.length) }))
      .sort((a, b) => a.at - b.at);
    const parts = [];
    let from = 0;
    for (const { user, at } of carets) {
      parts.push(text.slice(from, at), h("span", { class: "caret", "data-user": user, style: `--hue: ${hue(user)}` }, h("span", { class: "caret-name" }, user)));
      from = at;
    }
    parts.push(text.slice(from), "\n");
    this.mirror.replaceChildren(...parts);
    this.mirror.scrollTop = this.text.scrollTop;
    const users = carets.map((caret) => caret.user);
    this.cursorLine.textContent = users.length ? `also here: ${users.join(", ")}` : "";
    this.cursorLine.dataset.users = users.join(",");
  }

  async toggleVersions() {
    if (!this.versions.hidden) {
      this.versions.hidden = true;
      this.reading.hidden = true;
      return;
    }
    this.versions.hidden = false;
    try {
      const { version, snapshots } = await this.session.request("GET", `${this.path}/versions`);
      const item = (number, label, ts) => h("li", { "data-version": number },
        h("button", { type: "button", onclick: () => this.read(number) }, label), ts ? h("span", { class: "meta" }, clock(ts)) : null);
      this.versions.replaceChildren(item(version, `now: version ${version}`),
        ...snapshots.filter((snapshot) => snapshot.version !== version).map((snapshot) => item(snapshot.version, `version ${snapshot.version}`, snapshot.ts)));
    } catch (error) {
      this.error.textContent = `Versions: ${error.message}`;
    }
  }

  /** Shows the text as it was at `version`, read-only, beside the live one. */
  async read(version) {
    try {
      const { text } = await this.session.request("GET", `${this.path}/text?version=${version}`);
      this.reading.textContent = text;
      this.reading.dataset.version = String(version);
      this.reading.hidden = false;
    } catch (error) {
      this.error.textContent = `Version ${version}: ${error.message}`;
    }
  }

  close() {
    this.doc.close();
    document.removeEventListener("selectionchange", this.onSelection);
  }
}

/** A colour for a user's caret, the same on every screen. */
function hue(user) {
  let hash = 0;
  for (const char of user) hash = (hash * 31 + char.codePointAt(0)) % 360;
  return hash;
}

// MARK: - The app

class App {
  constructor(session) {
    this.session = session;
    this.chat = null;
    this.names = store.get("names", {});
    this.naming = new Set();
    this.list = new RoomList(this);
    this.build();
    addEventListener("hashchange", () => this.route());
    this.route();
  }

  build() {
    const direct = this.session.chatKinds("direct")[0];
    const open = [...this.session.chatKinds("open"), ...this.session.docKinds()];
    this.notice = h("p", { id: "app-error", class: "error", role: "alert" });
    const directForm = direct && h("form", {
      id: "direct", class: "start",
      onsubmit: async (event) => {
        event.preventDefault();
        const other = $("#direct-user").value.trim();
        if (!other) return;
        try {
          const room = await this.session.request("POST", `/direct/${encodeURIComponent(direct.kind)}`, { with: other });
          this.names[`${room.kind}/${room.id}`] = other;
          store.set("names", this.names);
          $("#direct-user").value = "";
          this.open(room.kind, room.id);
        } catch (error) {
          this.notice.textContent = `${error.message} (${error.code})`;
        }
      },
    }, h("input", { id: "direct-user", placeholder: "someone's name", "aria-label": "user to message" }),
    h("button", { id: "direct-go", type: "submit" }, "Message"));
    const openForm = open.length && h("form", {
      id: "open", class: "start",
      onsubmit: (event) => {
        event.preventDefault();
        const name = $("#open-name").value.trim();
        if (!name) return;
        $("#open-name").value = "";
        this.open($("#open-kind").value, name);
      },
    }, h("select", { id: "open-kind", "aria-label": "kind" }, open.map((kind) => h("option", { value: kind.kind }, kind.kind))),
    h("input", { id: "open-name", placeholder: "room name", "aria-label": "room name" }),
    h("button", { id: "open-go", type: "submit" }, "Open"));
    this.side = h("aside", { class: "side" },
      h("header", {}, h("strong", {}, "DurableRooms"), h("span", { id: "me", class: "me" }, this.session.user),
        h("button", { id: "sign-out", type: "button", onclick: () => this.signOut() }, "Sign out")),
      directForm, openForm, this.notice, this.list.element);
    this.main = h("main", { class: "main" }, h("p", { class: "placeholder" }, "Pick a room."));
    document.body.replaceChildren(h("div", { class: "app" }, this.side, this.main));
  }

  /** `#/room/{kind}/{id}` opens a room; anything else shows the list. */
  route() {
    const match = location.hash.match(/^#\/room\/([^/]+)\/(.+)$/);
    if (!match) return this.showList();
    const [kind, id] = [decodeURIComponent(match[1]), decodeURIComponent(match[2])];
    if (this.chat?.key !== `${kind}/${id}`) {
      this.chat?.close();
      this.chat = this.session.kind(kind)?.class === "doc" ? new DocumentView(this, kind, id) : new ChatView(this, kind, id);
      this.main.replaceChildren(this.chat.element);
      if (this.session.kind(kind)?.access === "open") this.list.remember(kind, id);
      else this.list.render();
      this.nameDirect(kind, id);
    }
    document.body.classList.add("in-chat");
    this.chat.text.focus();
  }

  open(kind, id) {
    location.hash = `#/room/${encodeURIComponent(kind)}/${encodeURIComponent(id)}`;
  }

  showList() {
    document.body.classList.remove("in-chat");
    if (location.hash) history.replaceState(null, "", location.pathname);
  }

  /** A room's title: a direct room is named after the other member. */
  title(kind, id) {
    return this.names[`${kind}/${id}`] ?? (this.session.kind(kind)?.access === "direct" ? "direct room" : `${kind}/${id}`);
  }

  /** Names a direct room after the other member, asking the room once. */
  async nameDirect(kind, id) {
    const key = `${kind}/${id}`;
    if (this.names[key] || this.session.kind(kind)?.access !== "direct" || this.naming.has(key)) return;
    this.naming.add(key);
    try {
      const { members } = await this.session.request("GET", `/rooms/${encodeURIComponent(kind)}/${encodeURIComponent(id)}/members`);
      const other = members.map((member) => member.user).find((user) => user !== this.session.user);
      if (!other) return;
      this.names[`${kind}/${id}`] = other;
      store.set("names", this.names);
      if (this.chat?.key === `${kind}/${id}`) this.chat.title.textContent = other;
      this.list.render();
    } catch {
      // The room's own view reports what is wrong.
    }
  }

  failed(text) {
    this.notice.textContent = text;
  }

  signOut() {
    this.chat?.close();
    this.list.inbox.close();
    store.remove("user");
    store.remove("token");
    location.hash = "";
    location.reload();
  }
}

async function main() {
  let settings;
  try {
    const response = await fetch("/app/settings");
    settings = await response.json();
  } catch (error) {
    document.body.replaceChildren(h("p", { class: "error" }, `The server cannot be reached: ${error.message}`));
    return;
  }
  const start = (session) => {
    store.set("user", session.user);
    if (session.token) store.set("token", session.token);
    window.app = new App(session);
  };
  const user = store.get("user", null);
  const token = store.get("token", null);
  if (settings.auth === "none" && user) return start(new Session(settings, user, null));
  if (settings.auth !== "none" && token && claims(token)?.sub) return start(new Session(settings, claims(token).sub, token));
  signIn(settings, start);
}

main();
