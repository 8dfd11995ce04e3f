#!/usr/bin/env python3
"""Checks a `rooms` binary's Server-Sent Events, long polling and STOMP with outside clients.

    python3 examples/python/transports_check.py path/to/rooms

The events are read by sseclient-py (pip install sseclient-py) and STOMP is spoken by stomp.py
(pip install stomp.py, its WebSocket transport), not by the server's own code.

Starts `rooms serve` on a free port, then:

- SSE: three messages posted, a stream with `?after=0` gets the `welcome` and the three messages
  as events whose `id` is their `seq`; a second stream reconnects with `Last-Event-ID: 2`, as a
  browser's EventSource does, and gets message 3 and then message 4, posted while it listens; a
  bad `Last-Event-ID` is refused with 400 `invalid_query`.
- Long polling: polls in a loop (`?after=SEQ&wait=SECONDS`) follow the room while messages are
  posted, each answered by the next commit; an idle poll ends empty after its wait.
- STOMP: one stomp.py connection subscribes to two rooms, sends to each with receipts and gets
  each room's messages on its own subscription; it disconnects, messages are posted meanwhile,
  and a new connection resumes with `x-after` from the last seq it had, with no gap.
- All four at once: one chat followed by a WebSocket, an SSE stream, a long-poll loop and a STOMP
  subscription, with messages sent on the WebSocket, posted over HTTP and sent over STOMP: all
  four see every message, in the same order with the same seq.

Exits non-zero on the first failure.
"""
import http.client
import json
import os
import shutil
import sys
import threading
import time

import sseclient  # sseclient-py
import stomp  # stomp.py

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rooms_client import RoomSocket, http as send, start_server  # noqa: E402


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print(f"ok   {what}")


def stream(port, path, headers=None):
    """An open event stream: the HTTP response and its events, read by sseclient.

    The events are one generator for the stream's life: a chunk of the response may hold several
    events (the server writes what is queued at once), and sseclient keeps what it read past an
    event inside the generator, so a new `events()` call would lose it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    chunks = iter(lambda: response.read1(4096), b"")
    return connection, response, sseclient.SSEClient(chunks).events()


def take(events, count, name="message"):
    """The next `count` events named `name` (other events are skipped)."""
    taken = []
    for event in events:
        if event.event == name:
            taken.append(event)
            if len(taken) == count:
                return taken
    raise AssertionError(f"the stream ended before {count} '{name}' events")


class StompCollector(stomp.ConnectionListener):
    """What a stomp.py connection received: MESSAGE, RECEIPT and ERROR frames, in order."""

    def __init__(self):
        self.messages, self.receipts, self.errors = [], [], []
        self.changed = threading.Condition()

    def on_message(self, frame):
        with self.changed:
            self.messages.append(frame)
            self.changed.notify_all()

    def on_receipt(self, frame):
        with self.changed:
            self.receipts.append(frame.headers["receipt-id"])
            self.changed.notify_all()

    def on_error(self, frame):
        with self.changed:
            self.errors.append(frame)
            self.changed.notify_all()

    def wait(self, what, condition, timeout=15):
        with self.changed:
            if not self.changed.wait_for(condition, timeout):
                raise AssertionError(f"timed out waiting for {what}; errors: {[e.headers for e in self.errors]}")

    def stored(self, subscription):
        """The stored messages (x-type: message) of `subscription`, decoded."""
        return [json.loads(m.body) for m in self.messages
                if m.headers.get("subscription") == subscription and m.headers.get("x-type") == "message"]


def stomp_connection(port, user):
    """A connected stomp.py connection over WebSocket at /stomp, and its collector."""
    connection = stomp.WSStompConnection(
        [("127.0.0.1", port)], ws_path="/stomp", header={"Sec-WebSocket-Protocol": "v12.stomp"},
        heartbeats=(4000, 4000))
    collector = StompCollector()
    connection.set_listener("check", collector)
    connection.connect(username=user, wait=True)
    return connection, collector


def check_stomp(port, base):
    """Two rooms on one stomp.py connection, receipts, and a resume with x-after."""
    connection, collector = stomp_connection(port, "ann")
    for room in ("a", "b"):
        connection.subscribe(f"/topic/rooms/chat/stomp-{room}", id=room, headers={"receipt": f"sub-{room}"})
    collector.wait("both subscriptions", lambda: {"sub-a", "sub-b"} <= set(collector.receipts))
    for index in (1, 2, 3):
        connection.send("/topic/rooms/chat/stomp-a", json.dumps({"text": f"a{index}", "id": f"a{index}"}),
                        content_type="application/json", headers={"receipt": f"a{index}"})
    for index in (1, 2):
        connection.send("/topic/rooms/chat/stomp-b", f"b{index}", content_type="text/plain",
                        headers={"receipt": f"b{index}", "x-id": f"b{index}"})
    expected = {"a1", "a2", "a3", "b1", "b2"}
    collector.wait("five receipts", lambda: expected <= set(collector.receipts))
    check(True, "every SEND answered by its RECEIPT")
    collector.wait("the messages", lambda: len(collector.stored("a")) == 3 and len(collector.stored("b")) == 2)
    check([(m["seq"], m["text"]) for m in collector.stored("a")] == [(1, "a1"), (2, "a2"), (3, "a3")],
          "room a's messages on subscription a, seq 1 to 3, in order")
    check([(m["seq"], m["text"]) for m in collector.stored("b")] == [(1, "b1"), (2, "b2")],
          "room b's messages on subscription b, seq 1 and 2")
    # Room a's first (rooms a and b are on their own shards, so b's may arrive before it).
    first = next(m for m in collector.messages
                 if m.headers.get("x-type") == "message" and m.headers.get("subscription") == "a")
    check(first.headers["message-id"] == "chat/stomp-a/1" and first.headers["destination"] == "/topic/rooms/chat/stomp-a",
          "message-id is kind/id/seq, destination the room's topic")
    check(not collector.errors, "no ERROR")
    connection.disconnect()

    # Away: two messages posted; back with x-after from the last seq seen.
    for text in ("a4", "a5"):
        status, _ = send("POST", f"{base}/rooms/chat/stomp-a/messages", {"user": "bob", "text": text})
        check(status == 201, f"{text} posted while the STOMP client was away")
    connection, collector = stomp_connection(port, "ann")
    connection.subscribe("/topic/rooms/chat/stomp-a", id="a", headers={"x-after": "3", "receipt": "back"})
    collector.wait("the resume", lambda: len(collector.stored("a")) == 2)
    send("POST", f"{base}/rooms/chat/stomp-a/messages", {"user": "bob", "text": "a6"})
    collector.wait("the live message", lambda: len(collector.stored("a")) == 3)
    check([m["seq"] for m in collector.stored("a")] == [4, 5, 6], "x-after: 3 resumes with 4 and 5, then 6 live, no gap")
    connection.disconnect()


def check_all_transports(port, base):
    """One chat through a WebSocket, SSE, long polls and STOMP: the same messages, order and seq."""
    room = "all-four"
    seen = {"websocket": [], "sse": [], "long poll": [], "stomp": []}
    done = threading.Event()

    socket_client = RoomSocket(f"ws://127.0.0.1:{port}/rooms/chat/{room}/ws?user=wendy")
    socket_client.receive_until("welcome")
    connection, response, events = stream(port, f"/rooms/chat/{room}/events?user=sam&after=0")
    take(events, 1, "welcome")

    def read_events():
        try:
            for event in events:
                if event.event == "message":
                    message = json.loads(event.data)
                    seen["sse"].append((message["seq"], message["text"]))
        except Exception:
            if not done.is_set():
                raise

    def poll():
        after = 0
        while not done.is_set():
            _, page = send("GET", f"{base}/rooms/chat/{room}/messages?after={after}&wait=2")
            for message in page["messages"]:
                seen["long poll"].append((message["seq"], message["text"]))
                after = message["seq"]

    readers = [threading.Thread(target=read_events, daemon=True), threading.Thread(target=poll, daemon=True)]
    for reader in readers:
        reader.start()
    stomp_client, collector = stomp_connection(port, "stan")
    stomp_client.subscribe(f"/topic/rooms/chat/{room}", id="all", headers={"receipt": "in"})
    collector.wait("the subscription", lambda: "in" in collector.receipts)

    sent = 0
    for round_ in range(3):
        socket_client.send({"type": "send", "text": f"ws{round_}", "id": f"ws{round_}"})
        status, _ = send("POST", f"{base}/rooms/chat/{room}/messages", {"user": "sam", "text": f"http{round_}"})
        check(status == 201, f"round {round_}: posted over HTTP")
        stomp_client.send(f"/topic/rooms/chat/{room}", json.dumps({"text": f"stomp{round_}"}),
                          content_type="application/json", headers={"receipt": f"r{round_}"})
        sent += 3
    collector.wait("the STOMP receipts", lambda: {"r0", "r1", "r2"} <= set(collector.receipts))
    while len(seen["websocket"]) < sent:
        frame = socket_client.receive()
        if frame.get("type") == "message":
            seen["websocket"].append((frame["seq"], frame["text"]))
    deadline = time.time() + 20
    while time.time() < deadline:
        seen["stomp"] = [(m["seq"], m["text"]) for m in collector.stored("all")]
        if all(len(messages) >= sent for messages in seen.values()):
            break
        time.sleep(0.05)
    done.set()
    readers[1].join()
    check(all(len(messages) == sent for messages in seen.values()),
          f"each transport got all {sent} messages: " + ", ".join(f"{k} {len(v)}" for k, v in seen.items()))
    check([seq for seq, _ in seen["websocket"]] == list(range(1, sent + 1)), "seq runs 1 to 9 with no gap")
    reference = seen["websocket"]
    for name, messages in seen.items():
        check(messages == reference, f"{name}: the same messages in the same order with the same seq")
    sources = {text.rstrip("012") for _, text in reference}
    check(sources == {"ws", "http", "stomp"}, "sent on the WebSocket, over HTTP and over STOMP")
    socket_client.close()
    stomp_client.disconnect()
    connection.close()


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    server, port, data = start_server(sys.argv[1], {"log": {"level": "info"}, "kinds": {"chat": {"class": "chat"}}})
    try:
        base = f"http://127.0.0.1:{port}"

        for index in (1, 2, 3):
            status, _ = send("POST", f"{base}/rooms/chat/sse/messages", {"user": "bob", "text": f"m{index}"})
            check(status == 201, f"message {index} posted")

        connection, response, feed = stream(port, "/rooms/chat/sse/events?user=ann&after=0")
        check(response.status == 200, "the stream opens with 200")
        check(response.getheader("Content-Type", "").startswith("text/event-stream"), "as text/event-stream")
        welcome = take(feed, 1, "welcome")[0]
        check(json.loads(welcome.data)["type"] == "welcome", "the first event is the welcome")
        events = take(feed, 3)
        check([event.id for event in events] == ["1", "2", "3"], "messages 1 to 3, each with its seq as id")
        check([json.loads(event.data)["text"] for event in events] == ["m1", "m2", "m3"], "in order, intact")
        connection.close()

        # Reconnect as EventSource does, from the last id it processed.
        connection, response, feed = stream(port, "/rooms/chat/sse/events?user=ann", {"Last-Event-ID": "2"})
        check(json.loads(take(feed, 1, "welcome")[0].data)["recovered"] is True, "the resume is recovered")
        replayed = take(feed, 1)
        check(replayed[0].id == "3", "message 3 replayed, nothing before it")
        poster = threading.Timer(0.2, lambda: send("POST", f"{base}/rooms/chat/sse/messages", {"user": "bob", "text": "m4"}))
        poster.start()
        live = take(feed, 1)
        check(live[0].id == "4" and json.loads(live[0].data)["text"] == "m4", "message 4 arrives live")
        connection.close()

        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/rooms/chat/sse/events?user=ann", headers={"Last-Event-ID": "not a number"})
        refused = connection.getresponse()
        body = json.loads(refused.read())
        check(refused.status == 400 and body["error"]["code"] == "invalid_query", "a bad Last-Event-ID: 400 invalid_query")
        connection.close()
        # Long polling in a loop, from the last seq received.
        posted = ["p5", "p6", "p7"]

        def post_slowly():
            for text in posted:
                time.sleep(0.3)
                send("POST", f"{base}/rooms/chat/sse/messages", {"user": "bob", "text": text})

        poster = threading.Thread(target=post_slowly)
        poster.start()
        after, received = 4, []
        deadline = time.time() + 30
        while len(received) < len(posted) and time.time() < deadline:
            status, page = send("GET", f"{base}/rooms/chat/sse/messages?after={after}&wait=10")
            check(status == 200, f"a long poll after {after} answers 200")
            for message in page["messages"]:
                received.append(message["text"])
                after = message["seq"]
        poster.join()
        check(received == posted and after == 7, "the polls got every message once, in order")
        started = time.time()
        status, page = send("GET", f"{base}/rooms/chat/sse/messages?after=7&wait=1")
        check(status == 200 and page["messages"] == [] and time.time() - started >= 0.9,
              "an idle poll answers an empty page after its wait")
        status, page = send("GET", f"{base}/rooms/chat/sse/messages?after=7&wait=60")
        check(status == 400 and page["error"]["code"] == "invalid_query", "wait=60: 400 invalid_query")
        check_stomp(port, base)
        check_all_transports(port, base)
        print("PASS")
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
