#!/usr/bin/env python3
"""Checks a `rooms` binary's Server-Sent Events and long polling with outside clients.

    python3 examples/python/transports_check.py path/to/rooms

The events are read by sseclient-py (pip install sseclient-py), not by the server's own code.
Starts `rooms serve` on a free port, posts three messages, then: a stream with `?after=0` gets the
`welcome` and the three messages as events whose `id` is their `seq`; a second stream reconnects
with `Last-Event-ID: 2`, as a browser's EventSource does, and gets message 3 and then message 4,
posted while it listens; a bad `Last-Event-ID` is refused with 400 `invalid_query`. Then long polls
in a loop (`urllib`, `?after=SEQ&wait=SECONDS`) follow the room while messages are posted, each
poll answered by the next commit, and an idle poll ends empty after its wait. Exits non-zero on
the first failure.
"""
import http.client
import json
import os
import shutil
import sys
import threading
import time

import sseclient  # sseclient-py

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rooms_client import http as send, start_server  # noqa: E402


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print(f"ok   {what}")


def stream(port, path, headers=None):
    """An open event stream: the HTTP response and an sseclient reading it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    chunks = iter(lambda: response.read1(4096), b"")
    return connection, response, sseclient.SSEClient(chunks)


def take(client, count, name="message"):
    """The next `count` events named `name` (other events are skipped)."""
    taken = []
    for event in client.events():
        if event.event == name:
            taken.append(event)
            if len(taken) == count:
                return taken
    raise AssertionError(f"the stream ended before {count} '{name}' events")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    server, port, data = start_server(sys.argv[1], {"log": {"level": "info"}, "kinds": {"chat": {"class": "chat"}}})
    try:
        base = f"http://127.0.0.1:{port}"

        for index in (1, 2, 3):
            status, _ = send("POST", f"{base}/rooms/chat/sse/messages", {"user": "bob", "text": f"m{index}"})
            check(status == 201, f"message {index} posted")

        connection, response, client = stream(port, "/rooms/chat/sse/events?user=ann&after=0")
        check(response.status == 200, "the stream opens with 200")
        check(response.getheader("Content-Type", "").startswith("text/event-stream"), "as text/event-stream")
        welcome = take(client, 1, "welcome")[0]
        check(json.loads(welcome.data)["type"] == "welcome", "the first event is the welcome")
        events = take(client, 3)
        check([event.id for event in events] == ["1", "2", "3"], "messages 1 to 3, each with its seq as id")
        check([json.loads(event.data)["text"] for event in events] == ["m1", "m2", "m3"], "in order, intact")
        connection.close()

        # Reconnect as EventSource does, from the last id it processed.
        connection, response, client = stream(port, "/rooms/chat/sse/events?user=ann", {"Last-Event-ID": "2"})
        check(json.loads(take(client, 1, "welcome")[0].data)["recovered"] is True, "the resume is recovered")
        replayed = take(client, 1)
        check(replayed[0].id == "3", "message 3 replayed, nothing before it")
        poster = threading.Timer(0.2, lambda: send("POST", f"{base}/rooms/chat/sse/messages", {"user": "bob", "text": "m4"}))
        poster.start()
        live = take(client, 1)
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
        print("PASS")
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
