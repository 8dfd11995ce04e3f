#!/usr/bin/env python3
"""Checks authentication and membership of a `rooms` binary with an outside client.

    python3 examples/python/auth_check.py path/to/rooms

Tokens are signed here with PyJWT (pip install PyJWT), not by the server's own code. Starts
`rooms serve` in jwt mode on a free port, then: a missing or badly signed token is refused
before the upgrade; a valid one is accepted and its `sub` is the user; a members room with an
owner, a member and a reader (who cannot post); removing a member closes their socket with 4403;
a direct room for a pair and a topic that a third user cannot open; expiry closes with 4401; an
`auth` frame with a fresh token keeps the socket open; `rooms token` mints a token PyJWT accepts.
Exits non-zero on the first failure.
"""
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time

import jwt  # PyJWT

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rooms_client import Closed, RoomSocket, http, start_server  # noqa: E402

SECRET = secrets.token_urlsafe(48)


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print(f"ok   {what}")


def token(sub, ttl=300, **claims):
    now = int(time.time())
    return jwt.encode({"sub": sub, "iat": now, "exp": now + ttl, **claims}, SECRET, algorithm="HS256")


def bearer(value):
    return {"Authorization": f"Bearer {value}"}


def refused(url, headers=None):
    """The status and error code of an upgrade the server refuses."""
    try:
        RoomSocket(url, headers=headers).close()
    except ConnectionRefusedError as error:
        return error.status, json.loads(error.body.decode())["error"]["code"]
    return 101, None


def until_closed(socket):
    """The frames `socket` receives until the server closes it, and the close code."""
    frames = []
    try:
        while True:
            frames.append(socket.receive())
    except Closed as closed:
        return frames, closed.code


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    server, port, data = start_server(sys.argv[1], {
        "auth": {"mode": "jwt", "secretEnv": "ROOMS_TEST_SECRET", "leewaySeconds": 0},
        "log": {"level": "trace"},
        "kinds": {"chat": {"class": "chat"}, "team": {"class": "chat", "access": "members"},
                  "dm": {"class": "chat", "access": "direct"}},
    }, environment := dict(os.environ, ROOMS_TEST_SECRET=SECRET))
    binary = os.path.abspath(sys.argv[1])
    config, log = os.path.join(data, "rooms.json"), os.path.join(data, "server.log")
    try:
        base, ws = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"

        # Refused, then accepted.
        check(refused(f"{ws}/rooms/chat/lobby/ws?user=ann") == (401, "unauthorized"), "no token: 401 before the upgrade")
        forged = jwt.encode({"sub": "ann", "exp": int(time.time()) + 60}, "another secret, of enough bytes for HS256", algorithm="HS256")
        check(refused(f"{ws}/rooms/chat/lobby/ws", bearer(forged)) == (401, "unauthorized"), "a forged token: 401")
        check(http("GET", f"{base}/rooms", headers=bearer(token("ann")))[0] == 403, "a non-admin cannot list rooms")
        check(http("GET", f"{base}/rooms", headers=bearer(token("ops", admin=True)))[0] == 200, "an admin can")
        ann = RoomSocket(f"{ws}/rooms/chat/lobby/ws?user=mallory&token={token('ann')}")
        welcome = ann.receive()
        check(welcome["type"] == "welcome" and welcome["user"] == "ann", "the token's sub is the user, not ?user=")
        ann.close()

        # A members room: owner, member, reader.
        status, created = http("POST", f"{base}/rooms/team/core", {"members": [
            {"user": "bob", "role": "member"}, {"user": "cat", "role": "reader"}]}, bearer(token("ann")))
        check(status == 201, "ann creates the members room")
        check(http("POST", f"{base}/rooms/team/core", {}, bearer(token("ann")))[0] == 409, "creating it again: 409")
        check(refused(f"{ws}/rooms/team/core/ws", bearer(token("dan"))) == (403, "not_a_member"),
              "a non-member is refused before the upgrade")
        owner = RoomSocket(f"{ws}/rooms/team/core/ws", headers=bearer(token("ann")))
        owner.receive_until("welcome")
        bob = RoomSocket(f"{ws}/rooms/team/core/ws", headers=bearer(token("bob")))
        bob.receive_until("welcome")
        cat = RoomSocket(f"{ws}/rooms/team/core/ws", headers=bearer(token("cat")))
        cat.receive_until("welcome")
        bob.send({"type": "send", "id": "b1", "text": "hello"})
        check(bob.receive_until("ack")[-1]["id"] == "b1", "a member posts")
        cat.send({"type": "send", "id": "c1", "text": "me too"})
        error = cat.receive_until("error")[-1]
        check(error["code"] == "read_only" and error["id"] == "c1", "a reader cannot post: read_only")
        status, _ = http("DELETE", f"{base}/rooms/team/core/members/bob", headers=bearer(token("ann")))
        check(status == 204, "the owner removes bob")
        frames, code = until_closed(bob)
        check(code == 4403, "bob's socket is closed with 4403")
        check(any(f.get("type") == "error" and f.get("code") == "not_a_member" for f in frames),
              "bob is told not_a_member first")
        removed = owner.receive_until("member")[-1]
        check(removed["event"] == "removed" and removed["user"] == "bob", "the room hears of the removal")

        # A direct room for a pair and a topic.
        status, room = http("POST", f"{base}/direct/dm", {"with": "bob", "topic": "post-123"}, bearer(token("ann")))
        check(status == 201 and room["kind"] == "dm", "ann opens a direct room with bob about post-123")
        status, again = http("POST", f"{base}/direct/dm", {"with": "ann", "topic": "post-123"}, bearer(token("bob")))
        check(status == 200 and again["id"] == room["id"], "bob gets the same room")
        check(refused(f"{ws}/rooms/dm/{room['id']}/ws", bearer(token("cat"))) == (403, "not_a_member"),
              "a third user cannot open it")
        check(http("GET", f"{base}/rooms/dm/{room['id']}/messages", headers=bearer(token("cat")))[0] == 403,
              "nor read it")

        # Expiry, and refresh.
        short = RoomSocket(f"{ws}/rooms/chat/lobby/ws", headers=bearer(token("ann", ttl=2)))
        short.receive_until("welcome")
        frames, code = until_closed(short)
        check(code == 4401, "an expired token closes the socket with 4401")
        check(any(f.get("code") == "token_expired" for f in frames), "after an error token_expired")
        kept = RoomSocket(f"{ws}/rooms/chat/lobby/ws", headers=bearer(token("ann", ttl=2)))
        kept.receive_until("welcome")
        kept.send({"type": "auth", "id": "r1", "token": token("ann", ttl=120)})
        ok = kept.receive_until("auth.ok")[-1]
        check(ok["id"] == "r1" and ok["exp"] > time.time() * 1000 + 60_000, "an auth frame answers auth.ok")
        time.sleep(3)
        kept.send({"type": "send", "id": "k1", "text": "still here"})
        check(kept.receive_until("ack")[-1]["id"] == "k1", "the refreshed socket outlives the first token")
        kept.close()

        # `rooms token` mints what PyJWT accepts.
        minted = subprocess.run([binary, "token", "--sub", "eve", "--rooms", "chat/*", "--config", config],
                                env=environment, capture_output=True, text=True, check=True).stdout.strip()
        claims = jwt.decode(minted, SECRET, algorithms=["HS256"])
        check(claims["sub"] == "eve" and claims["rooms"] == ["chat/*"], "rooms token signs HS256 claims")
        check(refused(f"{ws}/rooms/team/core/ws", bearer(minted)) == (403, "forbidden"),
              "its rooms claim limits it to chat rooms")
        server.send_signal(signal.SIGTERM)
        check(server.wait(timeout=30) == 0, "the server stops cleanly")
        with open(log, "rb") as text:
            logged = text.read()
        check(forged.encode() not in logged and minted.encode() not in logged, "no token appears in the log")
        print("PASS")
    finally:
        if server.poll() is None:
            server.kill()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
