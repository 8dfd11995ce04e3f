#!/usr/bin/env python3
"""Checks a `rooms` binary end to end with a client that knows only docs/PROTOCOL.md.

    python3 examples/python/interop_check.py path/to/rooms

Starts `rooms serve` on a free port with a temporary data directory, then: two clients chat;
history is read over HTTP after a restart; a room reports "active": false after its idle timeout
while a socket to it is open, and a frame on that socket wakes it; SIGTERM closes sockets with
1001 and exits 0; a kill -9 loses nothing acknowledged. Exits non-zero on the first failure.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rooms_client import Closed, RoomSocket, http  # noqa: E402


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print(f"ok   {what}")


class Server:
    def __init__(self, binary, data, idle_timeout):
        self.log = open(os.path.join(data, "server.log"), "ab")
        start = self.log.tell()
        self.process = subprocess.Popen(
            [binary, "serve", "--port", "0", "--data-dir", os.path.join(data, "rooms-data"),
             "--idle-timeout", str(idle_timeout)],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        self.port = None
        while self.port is None:
            if time.time() > deadline or self.process.poll() is not None:
                raise RuntimeError("the server did not start; see " + self.log.name)
            with open(self.log.name, "rb") as log:
                log.seek(start)
                found = re.findall(rb"listening on http://127\.0\.0\.1:(\d+)", log.read())
            if found:
                self.port = int(found[-1])
            time.sleep(0.05)
        self.http = f"http://127.0.0.1:{self.port}"
        self.ws = f"ws://127.0.0.1:{self.port}"

    def stop(self, sig=signal.SIGTERM):
        self.process.send_signal(sig)
        return self.process.wait(timeout=30)


def eventually(condition, what, timeout=20.0):
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise AssertionError("timed out: " + what)
        time.sleep(0.05)
    print(f"ok   {what}")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    binary = os.path.abspath(sys.argv[1])
    data = tempfile.mkdtemp(prefix="rooms-interop-")
    try:
        server = Server(binary, data, idle_timeout=0.5)

        # Two clients chat.
        ann = RoomSocket(f"{server.ws}/rooms/chat/py%2Froom/ws?user=ann")
        welcome = ann.receive()
        check(welcome["type"] == "welcome" and welcome["room"] == "py/room" and welcome["lastSeq"] == 0,
              "welcome is the first frame")
        bob = RoomSocket(f"{server.ws}/rooms/chat/py%2Froom/ws?user=bob")
        bob.receive_until("welcome")
        for index in range(10):
            (ann if index % 2 == 0 else bob).send({"type": "send", "text": f"hello {index}", "id": f"py-{index}"})
        seen_by_ann = []
        while len(seen_by_ann) < 10:
            frame = ann.receive()
            if frame["type"] == "message":
                seen_by_ann.append(frame)
        seen_by_bob = []
        while len(seen_by_bob) < 10:
            frame = bob.receive()
            if frame["type"] == "message":
                seen_by_bob.append(frame)
        check([m["seq"] for m in seen_by_ann] == list(range(1, 11)), "messages arrive in seq order")
        check([m["text"] for m in seen_by_ann] == [m["text"] for m in seen_by_bob], "both clients see the same order")
        bob.send("{not json")
        check(bob.receive_until("error")[-1]["code"] == "invalid_json", "garbage gets an error frame")
        bob.close()

        # Hibernation with an open socket.
        eventually(lambda: http("GET", f"{server.http}/rooms/chat/py%2Froom")[1]["active"] is False,
                   "the room reports active: false after its idle timeout, socket open")
        status, info = http("GET", f"{server.http}/rooms/chat/py%2Froom")
        check(info["connections"] == 1 and info["lastSeq"] == 10, "the hibernated room keeps its connection")
        ann.send({"type": "send", "text": "wake up", "id": "py-wake"})
        frames = ann.receive_until("message")
        ack = [f for f in frames if f["type"] == "ack"]
        check(ack and ack[0]["seq"] == 11 and frames[-1]["text"] == "wake up",
              "a frame on that socket wakes the room and is processed")
        check(http("GET", f"{server.http}/rooms/chat/py%2Froom")[1]["active"] is True, "the room is active again")

        # Graceful shutdown.
        code = server.stop(signal.SIGTERM)
        try:
            while True:
                ann.receive()
        except Closed as closed:
            check(closed.code == 1001, "SIGTERM closes sockets with 1001")
        check(code == 0, f"SIGTERM exits 0 (exit status {code})")

        # Restart: history over HTTP.
        server = Server(binary, data, idle_timeout=0.5)
        status, body = http("GET", f"{server.http}/rooms/chat/py%2Froom/messages?after=8")
        check(status == 200 and [m["seq"] for m in body["messages"]] == [9, 10, 11],
              "history survives a restart")
        status, posted = http("POST", f"{server.http}/rooms/chat/py%2Froom/messages",
                              {"user": "carl", "text": "acknowledged before the crash"})
        check(status == 201 and posted["seq"] == 12, "POST stores a message")

        # kill -9 loses nothing acknowledged.
        server.stop(signal.SIGKILL)
        server = Server(binary, data, idle_timeout=0.5)
        status, body = http("GET", f"{server.http}/rooms/chat/py%2Froom/messages?before=13&limit=1")
        check(body["messages"][0]["text"] == "acknowledged before the crash", "kill -9 loses nothing acknowledged")
        check(server.stop() == 0, "the restarted server stops cleanly")
        print("PASS")
    finally:
        if os.environ.get("KEEP"): print("kept", data)
        else: shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
