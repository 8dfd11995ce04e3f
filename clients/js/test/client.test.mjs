// The JavaScript client against a real `rooms serve` (ROOMS_BINARY): drops at random moments
// during a send storm, a kill -9 and restart, token expiry and refresh, a deleted room. In every
// case the app sees each message once, in seq order, and every send is stored once.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test as nodeTest } from "node:test";
import { connect, RoomsError } from "../rooms.js";
import { eventually, history, Leftovers, Server, sleep, token, webSocketClass } from "./support.mjs";

const WebSocket = webSocketClass();

const leftovers = new Leftovers();
afterEach(() => leftovers.clear());
const proxyTo = (port) => leftovers.proxyTo(port);

/** A test with a deadline: a stuck one fails instead of hanging the run. */
const test = (name, body) => nodeTest(name, { timeout: 90000 }, body);

/** `connect`, remembered for closing. */
function open(url, options) {
  return leftovers.client(connect(url, { WebSocket, ...options }));
}

/** A client that records what the app sees. */
function watched(url, options = {}) {
  const seen = { messages: [], states: [], closed: null };
  const client = open(url, { minBackoff: 50, maxBackoff: 400, ...options });
  client.on("message", (message) => seen.messages.push(message));
  client.on("state", (state) => seen.states.push(state));
  client.on("closed", (closed) => { seen.closed = closed; });
  return { client, seen };
}

/** Checks that `messages` are seq 1..n, each once, in order. */
function assertOrderedOnce(messages, n, who) {
  assert.deepEqual(messages.map((m) => m.seq), Array.from({ length: n }, (_, i) => i + 1), `${who}: seq 1..${n} once, in order`);
}

describe("the JavaScript client against rooms serve", () => {
  let server;
  before(async () => { server = await new Server().start(); });
  after(async () => { await server.remove(); });

  test("a send storm through a link cut at random moments: every send acked and stored once, every message seen once in order", async () => {
    const proxy = await proxyTo(server.port);
    const room = `storm-${Date.now()}`;
    const sender = watched(`ws://127.0.0.1:${proxy.port}/rooms/chat/${room}/ws?user=ann`, { after: 0 });
    const listener = watched(`ws://127.0.0.1:${proxy.port}/rooms/chat/${room}/ws?user=bob`, { after: 0 });
    let cutting = true;
    const cutter = (async () => {
      while (cutting) {
        await sleep(80 + Math.random() * 250);
        proxy.cut();
      }
    })();
    // At least 300 sends, and on until the link was cut 5 times mid-storm.
    const acks = [];
    while (acks.length < 300 || proxy.cuts < 5) {
      acks.push(sender.client.send(`m${acks.length}`, { id: `storm-${acks.length}` }));
      if (acks.length % 5 === 0) await sleep(10);
    }
    const total = acks.length;
    const results = await Promise.all(acks);
    cutting = false;
    await cutter;
    assert.equal(new Set(results.map((ack) => ack.seq)).size, total, "every send has its own seq");
    const stored = await history(server, room);
    assert.equal(stored.length, total, "stored once each");
    assert.deepEqual(new Set(stored.map((m) => m.id)).size, total);
    await eventually("both clients to see every message", () => sender.seen.messages.length >= total && listener.seen.messages.length >= total);
    await sleep(100);
    assertOrderedOnce(sender.seen.messages, total, "the sender");
    assertOrderedOnce(listener.seen.messages, total, "the listener");
    assert.deepEqual(listener.seen.messages.map((m) => m.id), stored.map((m) => m.id), "the same messages as history");
    sender.client.close();
    listener.client.close();
  });

  test("a server killed with SIGKILL and restarted: the client comes back, resumes, and nothing is lost or doubled", async () => {
    const room = `kill-${Date.now()}`;
    // The clients reach the server through a proxy whose address stays while the server's changes.
    const proxy = await proxyTo(server.port);
    const writer = watched(`ws://127.0.0.1:${proxy.port}/rooms/chat/${room}/ws?user=ann`, { after: 0 });
    const reader = watched(`ws://127.0.0.1:${proxy.port}/rooms/chat/${room}/ws?user=bob`, { after: 0 });
    await eventually("both open", () => writer.client.state === "open" && reader.client.state === "open");
    const first = [];
    for (let index = 0; index < 50; index += 1) first.push(writer.client.send(`a${index}`, { id: `a${index}` }));
    await Promise.all(first);
    await server.stop("SIGKILL");
    // Sends made while the server is down wait in the outbox.
    const second = [];
    for (let index = 0; index < 50; index += 1) second.push(writer.client.send(`b${index}`, { id: `b${index}` }));
    await sleep(300);
    await server.start();
    proxy.target = server.port;
    await Promise.all(second);
    await eventually("the reader to catch up", () => reader.seen.messages.length >= 100);
    await sleep(100);
    assertOrderedOnce(reader.seen.messages, 100, "the reader");
    assertOrderedOnce(writer.seen.messages, 100, "the writer");
    assert.equal((await history(server, room)).length, 100);
    writer.client.close();
    reader.client.close();
  });

  test("a deleted room is a terminal close: the client stops and says why, and waiting sends are rejected", async () => {
    const room = `gone-${Date.now()}`;
    const client = watched(`ws://127.0.0.1:${server.port}/rooms/chat/${room}/ws?user=ann`);
    await client.client.send("hello");
    const response = await fetch(server.url(`/rooms/chat/${room}`), { method: "DELETE" });
    assert.equal(response.status, 204);
    await eventually("the terminal close", () => client.seen.closed !== null);
    assert.equal(client.seen.closed.code, 4404);
    assert.equal(client.client.state, "closed");
    await assert.rejects(client.client.send("too late"), (error) => error instanceof RoomsError && error.code === "closed");
  });

  test("the outbox is bounded: beyond its limit a send is refused with outbox_full", async () => {
    const client = open(`ws://127.0.0.1:1/rooms/chat/nowhere/ws?user=ann`, { outboxLimit: 3, minBackoff: 1000 });
    const waiting = [client.send("1"), client.send("2"), client.send("3")];
    await assert.rejects(client.send("4"), (error) => error.code === "outbox_full");
    client.close();
    for (const send of waiting) await assert.rejects(send, (error) => error.code === "closed");
  });

  test("a link gone silent is noticed by the heartbeat: no pong in time, the client reconnects and goes on", async () => {
    const proxy = await proxyTo(server.port);
    const room = `silent-${Date.now()}`;
    const client = watched(`ws://127.0.0.1:${proxy.port}/rooms/chat/${room}/ws?user=ann`, { after: 0, pingInterval: 300, pongTimeout: 400 });
    await client.client.send("before");
    await sleep(1000); // pings answered in time: the connection stays
    assert.equal(client.client.state, "open");
    assert.deepEqual(client.seen.states.filter((state) => state === "waiting"), [], "no reconnect while pongs come");
    proxy.freeze();
    await eventually("the dead link noticed", () => client.seen.states.includes("waiting"));
    assert.equal(proxy.cuts, 0, "nothing closed the socket: only the missing pong told");
    const ack = await client.client.send("after");
    assert.equal(ack.seq, 2);
    await eventually("the message itself", () => client.seen.messages.length >= 2);
    assertOrderedOnce(client.seen.messages, 2, "ann");
  });

  test("presence, receipts and typing as live state; an AI answer streams into every client; the inbox is a live list", async () => {
    const room = `live-${Date.now()}`;
    const ann = watched(`ws://127.0.0.1:${server.port}/rooms/chat/${room}/ws?user=ann`);
    const bob = watched(`ws://127.0.0.1:${server.port}/rooms/chat/${room}/ws?user=bob`);
    await eventually("both present", () => ann.client.presence.length === 2 && bob.client.presence.length === 2);
    // One connection each: a `join` frame's `connections` is the room's total, not the user's.
    for (const client of [ann.client, bob.client]) {
      assert.deepEqual(client.presence.map((p) => [p.user, p.connections]).sort(), [["ann", 1], ["bob", 1]]);
      assert.equal(client.online, 2);
    }
    const typed = [];
    bob.client.on("typing", (frame) => typed.push(frame.user));
    ann.client.typing();
    await eventually("bob to see ann typing", () => typed.includes("ann"));
    const ack = await ann.client.send("read me");
    bob.client.read(ack.seq);
    await eventually("ann to see bob's receipt", () => ann.client.receipts.get("bob") === ack.seq);
    bob.client.close();
    await eventually("bob to leave", () => ann.client.presence.map((p) => p.user).join() === "ann");
    ann.client.close();

    const ai = `ai-${Date.now()}`;
    const asker = watched(`ws://127.0.0.1:${server.port}/rooms/ai/${ai}/ws?user=ann`);
    const watcher = watched(`ws://127.0.0.1:${server.port}/rooms/ai/${ai}/ws?user=bob`);
    await eventually("both open", () => asker.client.state === "open" && watcher.client.state === "open");
    asker.client.sendFrame({ type: "ai.prompt", text: "tell me something", id: "q1" });
    const done = (client) => [...client.streams.values()].find((stream) => stream.done);
    await eventually("the answer in both", () => done(asker.client) && done(watcher.client));
    assert.ok(done(asker.client).text.length > 0);
    assert.equal(done(asker.client).text, done(watcher.client).text, "the same text, streamed into both");
    // The answer is stored too, and reaches the app as an ordinary message with the same text.
    await eventually("the stored answer", () => watcher.seen.messages.some((m) => m.seq === done(watcher.client).seq));
    assert.equal(watcher.seen.messages.find((m) => m.seq === done(watcher.client).seq).text, done(watcher.client).text);
    asker.client.close();
    watcher.client.close();

    const team = `t-${Date.now()}`;
    const created = await fetch(server.url(`/rooms/team/${team}?user=bob`), {
      method: "POST", body: JSON.stringify({ members: [{ user: "ann", role: "member" }] }),
    });
    assert.equal(created.status, 201);
    const inbox = open(`ws://127.0.0.1:${server.port}/inbox/ws?user=ann`);
    await eventually("the inbox to list the room", () => inbox.inbox.has(`team/${team}`));
    await fetch(server.url(`/rooms/team/${team}/messages?user=bob`), { method: "POST", body: JSON.stringify({ text: "for ann" }) });
    await eventually("the inbox to count it unread", () => inbox.inbox.get(`team/${team}`)?.unread === 1);
    assert.equal(inbox.inbox.get(`team/${team}`).last.text, "for ann");
    inbox.close();
  });

  test("a first connection without after sees what comes after it joined; a recreated room resets", async () => {
    const room = `fresh-${Date.now()}`;
    await fetch(server.url(`/rooms/chat/${room}/messages`), { method: "POST", body: JSON.stringify({ user: "x", text: "before" }) });
    const client = watched(`ws://127.0.0.1:${server.port}/rooms/chat/${room}/ws?user=ann`);
    await eventually("open", () => client.client.state === "open");
    await client.client.send("after");
    await eventually("the message", () => client.seen.messages.length === 1);
    assert.equal(client.seen.messages[0].text, "after");
    assert.equal(client.seen.messages[0].seq, 2);
    client.client.close();
  });
});

describe("the JavaScript client with tokens", () => {
  let server;
  before(async () => { server = await new Server({ jwt: true }).start(); });
  after(async () => { await server.remove(); });

  test("a token that expires is refreshed with getToken and the client goes on, nothing lost or doubled", async () => {
    const room = `tok-${Date.now()}`;
    let minted = 0;
    const getToken = () => { minted += 1; return token("ann", 2); };
    const writer = watched(`ws://127.0.0.1:${server.port}/rooms/chat/${room}/ws`, { token: token("ann", 2), getToken, after: 0 });
    const reader = watched(`ws://127.0.0.1:${server.port}/rooms/chat/${room}/ws`, { token: token("bob", 600), after: 0 });
    const acks = [];
    const started = Date.now();
    let index = 0;
    while (Date.now() - started < 5000) {
      acks.push(writer.client.send(`t${index}`, { id: `t${index}` }));
      index += 1;
      await sleep(50);
    }
    await Promise.all(acks);
    assert.ok(minted >= 1, `the token was refreshed (${minted} times)`);
    await eventually("the reader to see every message", () => reader.seen.messages.length >= index);
    assertOrderedOnce(reader.seen.messages, index, "the reader");
    assertOrderedOnce(writer.seen.messages, index, "the writer");
    writer.client.close();
    reader.client.close();
  });

  test("no token and no getToken: the refusal is terminal (4401), found by asking the room over HTTP", async () => {
    const client = watched(`ws://127.0.0.1:${server.port}/rooms/chat/locked/ws`);
    await eventually("the terminal close", () => client.seen.closed !== null);
    assert.equal(client.seen.closed.code, 4401);
  });
});
