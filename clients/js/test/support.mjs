// Test support: a real `rooms serve` (the binary in ROOMS_BINARY), a TCP proxy that can cut every
// connection, HS256 tokens, and a WebSocket class for Node.
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The WebSocket class: the global one (Node 22, or 20 with --experimental-websocket), else `ws`. */
export function webSocketClass() {
  if (globalThis.WebSocket) return globalThis.WebSocket;
  const require = createRequire(import.meta.url);
  for (const path of ["ws", "/usr/share/nodejs/ws", "/usr/lib/nodejs/ws"]) {
    try { return require(path); } catch {}
  }
  throw new Error("no WebSocket for Node: use Node 22, or install the ws package (Debian: node-ws)");
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `condition()` is true, polling. */
export async function eventually(what, condition, timeout = 20000) {
  const deadline = Date.now() + timeout;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export const SECRET = "the-js-client-test-secret-that-is-long-enough-0123456789";

/** An HS256 token for `sub`, expiring in `seconds`. */
export function token(sub, seconds) {
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const body = `${encode({ alg: "HS256", typ: "JWT" })}.${encode({ sub, iat: now, exp: now + seconds })}`;
  return `${body}.${createHmac("sha256", SECRET).update(body).digest("base64url")}`;
}

/** A `rooms serve` process on its own data directory. */
export class Server {
  constructor({ jwt = false } = {}) {
    this.directory = mkdtempSync(join(tmpdir(), "rooms-js-"));
    this.jwt = jwt;
    this.port = 0;
  }

  /** Starts the server: on a fresh ephemeral port unless `samePort` (a port freed by a stopped
   * server may be taken by another process meanwhile: put a Proxy in front instead). */
  async start({ samePort = false } = {}) {
    if (!samePort) this.port = 0;
    const config = {
      server: { host: "127.0.0.1", port: this.port },
      storage: { directory: join(this.directory, "data") },
      log: { level: "info" },
      kinds: {
        chat: { class: "chat", receiptIntervalMilliseconds: 50 },
        team: { class: "chat", access: "members", inboxDelayMilliseconds: 50 },
        ai: { class: "ai-chat", provider: { type: "local", tokensPerSecond: 200, maxTokens: 20 } },
        doc: { class: "doc", cursorIntervalMilliseconds: 20 },
        shortdoc: { class: "doc", snapshotEvery: 10, keepVersions: 10 },
      },
    };
    if (this.jwt) config.auth = { mode: "jwt", secretEnv: "ROOMS_JS_SECRET", leewaySeconds: 0 };
    writeFileSync(join(this.directory, "rooms.json"), JSON.stringify(config));
    const log = join(this.directory, `server-${Date.now()}.log`);
    writeFileSync(log, "");
    const binary = process.env.ROOMS_BINARY;
    if (!binary) throw new Error("set ROOMS_BINARY to the rooms executable");
    const { openSync } = await import("node:fs");
    const output = openSync(log, "a");
    this.process = spawn(binary, ["serve", "--config", join(this.directory, "rooms.json")], {
      stdio: ["ignore", output, output], env: { ...process.env, ROOMS_JS_SECRET: SECRET },
    });
    const process_ = this.process;
    await eventually("the server to listen", () => {
      if (process_.exitCode !== null || process_.signalCode !== null) {
        throw new Error(`rooms serve exited before listening: ${readFileSync(log, "utf8").slice(-2000)}`);
      }
      return /listening on http:\/\/127\.0\.0\.1:(\d+)/.test(readFileSync(log, "utf8"));
    }, 60000);
    this.port = Number(readFileSync(log, "utf8").match(/listening on http:\/\/127\.0\.0\.1:(\d+)/)[1]);
    return this;
  }

  /** Stops the process with `signal` and waits for it. */
  async stop(signal = "SIGTERM") {
    if (!this.process || this.process.exitCode !== null) return;
    const exited = new Promise((resolve) => this.process.once("exit", resolve));
    this.process.kill(signal);
    await exited;
  }

  async remove() {
    await this.stop("SIGKILL");
    rmSync(this.directory, { recursive: true, force: true });
  }

  url(path) {
    return `http://127.0.0.1:${this.port}${path}`;
  }
}

/** A TCP proxy to `port` whose connections can all be cut at once. */
export class Proxy {
  constructor(port) {
    this.target = port;
    this.sockets = new Set();
    this.cuts = 0;
  }

  async start() {
    this.server = net.createServer((client) => {
      if (this.refusing) return client.resetAndDestroy ? client.resetAndDestroy() : client.destroy();
      const upstream = net.connect(this.target, "127.0.0.1");
      this.sockets.add(client);
      this.sockets.add(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      const end = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on("error", end).on("close", end);
      upstream.on("error", end).on("close", end);
    });
    await new Promise((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = this.server.address().port;
    return this;
  }

  /** While true, new connections are reset at once: a network that is down. */
  refuse(refusing = true) {
    this.refusing = refusing;
    if (refusing) this.cut();
  }

  /** Resets every connection, as a network that drops does. */
  cut() {
    this.cuts += 1;
    for (const socket of this.sockets) socket.resetAndDestroy ? socket.resetAndDestroy() : socket.destroy();
    this.sockets.clear();
  }

  /** Stops forwarding on every open connection without closing it: a link gone silent, which
   * neither end notices until a heartbeat goes unanswered. New connections work. */
  freeze() {
    for (const socket of this.sockets) {
      socket.unpipe();
      socket.pause();
    }
  }

  async stop() {
    this.cut();
    if (!this.server.listening) return;
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** The clients and proxies a test makes, closed and stopped after it (passed or failed: call
 * `clear` in `afterEach`), so that none keeps reconnecting, or the process alive, once its server
 * is gone. */
export class Leftovers {
  constructor() {
    this.clients = new Set();
    this.proxies = new Set();
  }

  /** Remembers `client` for closing, and returns it. */
  client(client) {
    this.clients.add(client);
    return client;
  }

  /** A proxy to `port`, remembered for stopping. */
  async proxyTo(port) {
    const proxy = await new Proxy(port).start();
    this.proxies.add(proxy);
    return proxy;
  }

  async clear() {
    for (const client of this.clients) client.close();
    this.clients.clear();
    for (const proxy of this.proxies) await proxy.stop();
    this.proxies.clear();
  }
}

/** The room's whole history over HTTP. */
export async function history(server, room, headers = {}) {
  const messages = [];
  for (;;) {
    const after = messages.length ? messages[messages.length - 1].seq : 0;
    const response = await fetch(server.url(`/rooms/chat/${room}/messages?after=${after}&limit=500`), { headers });
    const page = (await response.json()).messages;
    messages.push(...page);
    if (page.length < 500) return messages;
  }
}
