#!/usr/bin/env python3
"""Crash torture: kill `rooms serve` again and again under load, then prove nothing acknowledged was lost.

Senders post chat messages with ids over HTTP (and over WebSocket when the websocket-client package
is installed) to a few open rooms and to rooms with members (two `members` rooms and one `direct`
room), some of them scheduled for a moment later. In the rooms with members, WebSocket senders also
mark messages read (`read` frames), and an owner adds, re-roles and removes members over HTTP. The
server pushes offline members' messages to a webhook this program serves. Meanwhile this program
kills the server at a random moment (SIGKILL, or SIGTERM for a graceful stop) and restarts it on
the same data directory, cycle after cycle. A send that got no answer is resent with the same id
(sends are idempotent), as a real client would. At the end it checks, from each room's history:

- every acknowledged message is there exactly once, with the seq its ack gave;
- seqs run 1..N with no gap and no id twice;
- nothing is stored that was never sent;
- every acknowledged scheduled message was delivered exactly once;
- SIGTERM cycles: every send got an answer or a closed connection, never silence (no request hangs);

and the state derived from the rooms' logs:

- receipts: every user's stored read cursor (`GET .../receipts`) is at or past every read of
  theirs that was acknowledged (a `read` frame is never answered; the ack of a later send on the
  same socket proves it committed), never past the room's last seq, and its `unread` counts the
  others' messages after it;
- members: each member list holds what the last answered change said (a change that got no answer
  may or may not have applied);
- inboxes: every user's `GET /inbox` lists exactly the rooms they are a member of, each with the
  room's last seq and last message and the user's read cursor and unread count, once the outbox
  has delivered (polled for a bounded time);
- push: every push names messages as the room stored them, never the recipient's own, no message is
  in two deliveries to one user (a delivery id may arrive twice), and a member who never connects
  or reads got every message of the room, each in exactly one delivery;
- outboxes: the rooms' files (read beside the server) end owing no inbox update; the pushes still
  owed (being retried) are counted.

Usage (from the repository's root, after `swift build`):
    python3 Benchmarks/faults/crash_torture.py --binary .build/debug/rooms --cycles 5
    python3 Benchmarks/faults/crash_torture.py --binary .build/release/rooms --cycles 200 --signal mixed
Exit status 0 when every check holds; 1 otherwise. The last line is a JSON summary.
"""

import argparse
import hashlib
import hmac
import http.client
import http.server
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import sys
import tempfile
import threading
import time
import urllib.parse

from rooms_server import Server, free_port

try:
    import websocket  # websocket-client
except ImportError:  # HTTP senders only
    websocket = None

# How long one request may take before it counts as silence. A graceful stop answers or closes
# within the server's shutdown timeout (set to 10 s below); a killed server closes at once.
SILENCE_SECONDS = 20
# How long derived state (inboxes, pushes) may take to agree with the rooms after the last restart.
SETTLE_SECONDS = 30
PUSH_SECRET_ENV = "ROOMS_TORTURE_PUSH_SECRET"

OWNER = "boss"
MEMBERS = ["ann", "bob"]  # post and read over WebSocket and HTTP; never removed
OFFLINE = "olga"  # a member who never connects nor reads: every message is pushed to her once
CHURN = ["c0", "c1", "c2", "c3"]  # added, re-roled and removed during the torture; never connect


class Ledger:
    """What the clients sent and what was acknowledged, shared by every thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sent = set()  # (room, id) of every message ever sent, acked or not
        self.acked = {}  # (room, id) -> seq
        self.scheduled = {}  # (room, id) -> deliverAt in ms, acknowledged as scheduled
        self.unresolved = set()  # (room, id, text, deliverAt, user) sent without an answer: resent later
        self.reads = {}  # (room, user) -> the highest read seq known committed
        self.read_acks = 0  # reads acknowledged (by a later send's ack)
        self.member_changes = {}  # (room, user) -> [(role or None for removed, answered)] in order
        self.pushes = {}  # delivery id -> body
        self.push_arrivals = 0
        self.problems = []
        self.silences = 0
        self.refusals = {}  # status/code -> count

    def problem(self, text):
        with self.lock:
            if len(self.problems) < 50:
                self.problems.append(text)

    def ack(self, room, mid, seq):
        with self.lock:
            before = self.acked.get((room, mid))
            if before is not None and before != seq:
                self.problems.append(f"{room}/{mid} acknowledged with seq {before}, then {seq}")
            self.acked[(room, mid)] = seq

    def read(self, room, user, seq):
        with self.lock:
            self.reads[(room, user)] = max(seq, self.reads.get((room, user), 0))
            self.read_acks += 1


def http_request(port, method, path, body=None, timeout=SILENCE_SECONDS):
    """(status, parsed JSON) or raises OSError / http.client errors when the connection fails."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        connection.request(method, path, body=payload, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        data = response.read()
        try:
            return response.status, json.loads(data) if data else {}
        except ValueError:
            return response.status, {"raw": data[:200].decode("utf-8", "replace")}
    finally:
        connection.close()


def post(ledger, port, room, mid, text, deliver_at, user):
    """Sends one message over HTTP to `room` ("kind/id"); records the outcome. True when answered."""
    body = {"user": user, "id": mid, "text": text}
    if deliver_at is not None:
        body["deliverAt"] = deliver_at
    with ledger.lock:
        ledger.sent.add((room, mid))
    try:
        status, answer = http_request(port, "POST", f"/rooms/{room}/messages", body)
    except socket.timeout:
        with ledger.lock:
            ledger.silences += 1
            ledger.unresolved.add((room, mid, text, deliver_at, user))
        return False
    except (OSError, http.client.HTTPException):
        with ledger.lock:
            ledger.unresolved.add((room, mid, text, deliver_at, user))
        return False
    if status in (200, 201) and "seq" in answer:
        ledger.ack(room, mid, answer["seq"])
    elif status in (200, 202) and answer.get("scheduled"):
        with ledger.lock:
            ledger.scheduled[(room, mid)] = deliver_at
    elif status == 200 and answer.get("duplicate"):
        with ledger.lock:  # a scheduled message sent again before its delivery
            ledger.scheduled.setdefault((room, mid), deliver_at)
    else:
        code = (answer.get("error") or {}).get("code", "?")
        with ledger.lock:
            key = f"{status} {code}"
            ledger.refusals[key] = ledger.refusals.get(key, 0) + 1
            # Refused while the node was stopping or a room restarting: not stored; sent again.
            ledger.unresolved.add((room, mid, text, deliver_at, user))
        if status not in (503,):
            ledger.problem(f"{room}/{mid}: unexpected answer {status} {answer}")
    return True


def http_sender(ledger, port, name, targets, stop, rng):
    """Posts to `targets`, a list of (room, [users who may post there])."""
    n = 0
    while not stop.is_set():
        n += 1
        room, users = rng.choice(targets)
        deliver_at = None
        if rng.random() < 0.03:
            deliver_at = int(time.time() * 1000) + rng.randint(300, 3000)
        if not post(ledger, port, room, f"{name}-{n}", f"{name} {n}", deliver_at, rng.choice(users)):
            time.sleep(0.05)  # the server is down: wait for it a little, as a client would


def ws_sender(ledger, port, name, user, rooms, stop, rng, reads=False):
    """Sends as `user` over one WebSocket at a time, each send waiting for its ack; reconnects after
    a drop. With `reads`, it also marks read up to a seq it saw committed, now and then, before a
    send: the read is acknowledged by that send's ack (a socket's frames are turns in order, and an
    ack leaves only after the commit that holds every turn before it)."""
    n = 0
    while not stop.is_set():
        room = rng.choice(rooms)
        try:
            ws = websocket.create_connection(
                f"ws://127.0.0.1:{port}/rooms/{room}/ws?user={user}", timeout=SILENCE_SECONDS)
        except (OSError, websocket.WebSocketException):
            time.sleep(0.05)
            continue
        seen = 0  # the highest seq this socket knows is committed
        unconfirmed_read = 0
        try:
            for _ in range(rng.randint(5, 50)):
                if stop.is_set():
                    break
                n += 1
                if reads and seen and rng.random() < 0.3:
                    seq = rng.randint(max(0, seen - 5), seen)
                    ws.send(json.dumps({"type": "read", "seq": seq, "id": f"{name}-r{n}"}))
                    unconfirmed_read = max(unconfirmed_read, seq)
                mid = f"{name}-{n}"
                with ledger.lock:
                    ledger.sent.add((room, mid))
                    ledger.unresolved.add((room, mid, f"{name} {n}", None, user))
                ws.send(json.dumps({"type": "send", "id": mid, "text": f"{name} {n}"}))
                while True:
                    frame = json.loads(ws.recv())
                    kind = frame.get("type")
                    if kind == "welcome":
                        seen = max(seen, frame.get("lastSeq", 0))
                    elif kind == "message":
                        seen = max(seen, frame["seq"])
                    elif kind == "ack" and frame.get("id") == mid:
                        ledger.ack(room, mid, frame["seq"])
                        seen = max(seen, frame["seq"])
                        with ledger.lock:
                            ledger.unresolved.discard((room, mid, f"{name} {n}", None, user))
                        if unconfirmed_read:
                            ledger.read(room, user, unconfirmed_read)
                            unconfirmed_read = 0
                        break
                    elif kind == "error" and frame.get("id") == mid:
                        break  # not stored; stays unresolved and is resent over HTTP
                    elif kind == "error" and frame.get("code") == "shutting_down":
                        unconfirmed_read = 0  # a read refused by a stopping node: not stored
                    elif kind == "error":
                        ledger.problem(f"{room}: {user} got an error for no send: {frame}")
        except websocket.WebSocketTimeoutException:
            with ledger.lock:
                ledger.silences += 1
        except (OSError, ValueError, websocket.WebSocketException):
            pass  # the server went away: what was not acked stays unresolved
        finally:
            try:
                ws.close()
            except Exception:
                pass


def member_changer(ledger, port, rooms, stop, rng):
    """The owner adds, re-roles and removes the churn users over HTTP, one change at a time."""
    while not stop.is_set():
        room, user = rng.choice(rooms), rng.choice(CHURN)
        role = rng.choice(["member", "reader", None, None])
        path = f"/rooms/{room}/members/{user}?user={OWNER}"
        answered = False
        try:
            if role is None:
                status, answer = http_request(port, "DELETE", path)
                code = (answer.get("error") or {}).get("code")
                answered = status == 204 or (status == 404 and code == "member_not_found")
            else:
                status, answer = http_request(port, "PUT", path, {"role": role})
                answered = status in (200, 201) and answer.get("role") == role
            if not answered and status != 503:
                ledger.problem(f"{room}: changing {user} to {role}: unexpected answer {status} {answer}")
        except socket.timeout:
            with ledger.lock:
                ledger.silences += 1
        except (OSError, http.client.HTTPException):
            pass  # no answer: the change may or may not have applied
        with ledger.lock:
            ledger.member_changes.setdefault((room, user), []).append((role, answered))
        time.sleep(rng.uniform(0.01, 0.05))


class PushReceiver:
    """The push webhook: checks each push's signature, records it by delivery id, answers 204
    (or, for a share of the attempts, 500, so that the server retries)."""

    def __init__(self, ledger, secret, failures, rng):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                if len(body) < length:
                    # The server was killed while it sent the push: it was not delivered, and the
                    # server sends it again once restarted.
                    self.close_connection = True
                    return
                expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
                if not hmac.compare_digest(expected, self.headers.get("X-Rooms-Signature", "")):
                    ledger.problem(f"a push with a bad signature: {body[:200]!r}")
                    self.send_response(400)
                    self.end_headers()
                    return
                with receiver.lock:
                    fail = rng.random() < failures
                if fail:
                    self.send_response(500)
                    self.end_headers()
                    return
                delivery = self.headers.get("X-Rooms-Delivery", "")
                with ledger.lock:
                    ledger.push_arrivals += 1
                    before = ledger.pushes.setdefault(delivery, body)
                if before != body:
                    ledger.problem(f"push delivery {delivery} came twice with different bodies")
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.lock = threading.Lock()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def settle(ledger, port):
    """Resends every unresolved message by its id until each has an answer."""
    for _ in range(20):
        with ledger.lock:
            pending = list(ledger.unresolved)
            ledger.unresolved.clear()
        if not pending:
            return
        for room, mid, text, deliver_at, user in pending:
            if deliver_at is not None and deliver_at <= time.time() * 1000:
                deliver_at = int(time.time() * 1000) + 500  # still in the future, as the API requires
            post(ledger, port, room, mid, text, deliver_at, user)
            with ledger.lock:
                if (room, mid) in ledger.acked or (room, mid) in ledger.scheduled:
                    ledger.unresolved.discard((room, mid, text, deliver_at, user))
        time.sleep(0.2)
    ledger.problem(f"{len(ledger.unresolved)} sends never got an answer after the last restart")


def get(port, path):
    status, answer = http_request(port, "GET", path)
    if status != 200:
        raise SystemExit(f"GET {path}: {status} {answer}")
    return answer


def history(port, room, reader):
    messages, after = [], 0
    while True:
        batch = get(port, f"/rooms/{room}/messages?after={after}&limit=500&user={reader}").get("messages", [])
        if not batch:
            return messages
        messages += batch
        after = batch[-1]["seq"]


def verify_log(ledger, histories):
    stored = 0
    duplicated = 0
    lost = 0
    for room, messages in histories.items():
        stored += len(messages)
        seqs = [m["seq"] for m in messages]
        if seqs != list(range(1, len(seqs) + 1)):
            ledger.problem(f"{room}: seqs are not 1..{len(seqs)} without a gap")
        by_id = {}
        for m in messages:
            if m["id"] in by_id:
                duplicated += 1
                ledger.problem(f"{room}/{m['id']} stored twice (seq {by_id[m['id']]} and {m['seq']})")
            by_id[m["id"]] = m["seq"]
            if (room, m["id"]) not in ledger.sent:
                ledger.problem(f"{room}/{m['id']} stored but never sent")
        for (r, mid), seq in ledger.acked.items():
            if r != room:
                continue
            if by_id.get(mid) != seq:
                lost += 1
                ledger.problem(f"{room}/{mid} acknowledged with seq {seq}, history has {by_id.get(mid)}")
        for (r, mid) in ledger.scheduled:
            if r == room and mid not in by_id:
                lost += 1
                ledger.problem(f"scheduled {room}/{mid} was never delivered")
    return stored, lost, duplicated


def unread(messages, user, read_seq):
    return sum(1 for m in messages if m["seq"] > read_seq and m["user"] != user)


def verify_receipts(ledger, port, histories, readers):
    """Checks every room's receipts against its log and the acknowledged reads; returns the
    receipts by room and user, and how many acknowledged reads were checked."""
    receipts, checked = {}, 0
    for room, reader in readers.items():
        messages = histories[room]
        listed = {r["user"]: r for r in get(port, f"/rooms/{room}/receipts?user={reader}")["receipts"]}
        receipts[room] = {user: r["readSeq"] for user, r in listed.items()}
        for user, r in listed.items():
            if not 0 <= r["readSeq"] <= len(messages):
                ledger.problem(f"{room}: {user} has read up to {r['readSeq']}, the room's last seq is {len(messages)}")
            if r["unread"] != unread(messages, user, r["readSeq"]):
                ledger.problem(f"{room}: {user} has {r['unread']} unread, the log says "
                               f"{unread(messages, user, r['readSeq'])}")
        for (r, user), seq in ledger.reads.items():
            if r != room:
                continue
            checked += 1
            stored = listed.get(user, {}).get("readSeq", 0)
            if stored < seq:
                ledger.problem(f"{room}: {user}'s read up to {seq} was acknowledged, the receipt says {stored}")
    return receipts, checked


def verify_members(ledger, port, team_rooms):
    """Checks each members room's list against the answered changes; returns the members by room
    and how many (room, user) pairs were checked."""
    members, checked = {}, 0
    for room in team_rooms:
        roles = {m["user"]: m["role"] for m in get(port, f"/rooms/{room}/members?user={OWNER}")["members"]}
        members[room] = roles
        for user, role in [(OWNER, "owner"), *[(u, "member") for u in MEMBERS + [OFFLINE]]]:
            checked += 1
            if roles.get(user) != role:
                ledger.problem(f"{room}: {user} should be {role}, is {roles.get(user)}")
        for user in CHURN:
            checked += 1
            changes = ledger.member_changes.get((room, user), [])
            answered = [i for i, (_, ok) in enumerate(changes) if ok]
            last = answered[-1] if answered else -1
            allowed = {changes[last][0] if answered else None} | {role for role, _ in changes[last + 1:]}
            if roles.get(user) not in allowed:
                ledger.problem(f"{room}: {user} is {roles.get(user)}; the last answered change made them "
                               f"{changes[last][0] if answered else None}, later unanswered ones "
                               f"{[role for role, _ in changes[last + 1:]]}")
    return members, checked


def expected_inboxes(histories, members, receipts, dm_room):
    """Each user's inbox as the rooms' logs, members and receipts say it must be: room -> entry."""
    memberships = {room: set(roles) for room, roles in members.items()}
    memberships[dm_room] = set(MEMBERS)
    inboxes = {}
    for room, users in memberships.items():
        messages = histories[room]
        for user in users:
            read_seq = receipts[room].get(user, 0)
            last = messages[-1] if messages else None
            inboxes.setdefault(user, {})[room] = {
                "lastSeq": len(messages), "readSeq": read_seq, "unread": unread(messages, user, read_seq),
                "last": (last["seq"], last["user"], last["text"]) if last else None,
            }
    for user in [OWNER, *MEMBERS, OFFLINE, *CHURN]:
        inboxes.setdefault(user, {})
    return inboxes


def inbox_differences(port, user, expected):
    rooms, cursor = {}, None
    while True:
        page = get(port, f"/inbox?user={user}&limit=200" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else ""))
        for entry in page["rooms"]:
            last = entry.get("last")
            rooms[f"{entry['kind']}/{entry['id']}"] = {
                "lastSeq": entry["lastSeq"], "readSeq": entry["readSeq"], "unread": entry["unread"],
                "last": (last["seq"], last["user"], last["text"]) if last else None,
            }
        cursor = page.get("cursor")
        if not cursor:
            break
    differences = []
    for room in sorted(set(rooms) | set(expected)):
        if rooms.get(room) != expected.get(room):
            differences.append(f"{user}'s inbox has {room} as {rooms.get(room)}, the room says {expected.get(room)}")
    return differences


def verify_inboxes(ledger, port, inboxes, deadline):
    """Polls every inbox until it agrees with the rooms or the deadline passes; returns the number
    of inboxes checked and of rooms that still disagree."""
    while True:
        differences = [d for user, rooms in inboxes.items() for d in inbox_differences(port, user, rooms)]
        if not differences or time.time() > deadline:
            break
        time.sleep(0.5)
    for text in differences[:10]:
        ledger.problem(f"after {SETTLE_SECONDS} s: {text}")
    return len(inboxes), len(differences)


def pushed_ranges(ledger, room, user):
    """The seq ranges the deliveries to `user` for `room` covered: [(first, last)], by seq."""
    kind, rid = room.split("/")
    with ledger.lock:
        bodies = [json.loads(b) for b in ledger.pushes.values()]
    return sorted((p["seq"] - p["count"] + 1, p["seq"]) for p in bodies
                  if p["user"] == user and p["kind"] == kind and p["room"] == rid)


def offline_gaps(ledger, histories, team_rooms):
    """The messages of the team rooms the offline member got in no push, or in more than one."""
    missing, twice = 0, 0
    for room in team_rooms:
        covered = [0] * (len(histories[room]) + 1)
        for first, last in pushed_ranges(ledger, room, OFFLINE):
            for seq in range(max(1, first), min(last, len(histories[room])) + 1):
                covered[seq] += 1
        missing += covered[1:].count(0)
        twice += sum(1 for c in covered[1:] if c > 1)
    return missing, twice


def verify_pushes(ledger, histories, team_rooms, deadline):
    """Waits until the offline member got every message (or the deadline passes), then checks
    every push against the logs. Returns (deliveries, messages pushed twice, missing for the
    offline member)."""
    while offline_gaps(ledger, histories, team_rooms)[0] and time.time() < deadline:
        time.sleep(0.5)
    missing, _ = offline_gaps(ledger, histories, team_rooms)
    if missing:
        ledger.problem(f"after {SETTLE_SECONDS} s, {missing} messages were never pushed to {OFFLINE}")
    with ledger.lock:
        bodies = [json.loads(b) for b in ledger.pushes.values()]
    pushed = {}  # (user, room) -> seqs in deliveries so far
    duplicates = 0
    for p in bodies:
        room = f"{p['kind']}/{p['room']}"
        messages = histories.get(room, [])
        listed = [m["seq"] for m in p["messages"]]
        if p["seq"] != max(listed) or len(listed) != min(p["count"], 20) or p["count"] < 1:
            ledger.problem(f"push to {p['user']} of {room}: seq {p['seq']}, count {p['count']}, messages {listed}")
        for m in p["messages"]:
            stored = messages[m["seq"] - 1] if 0 < m["seq"] <= len(messages) else None
            if stored is None or (stored["user"], stored["text"]) != (m["from"], m["text"]):
                ledger.problem(f"push to {p['user']} of {room}: seq {m['seq']} is {m}, the room stored {stored}")
            if m["from"] == p["user"]:
                ledger.problem(f"{p['user']} was pushed their own message {room}/{m['seq']}")
        seen = pushed.setdefault((p["user"], room), set())
        for seq in range(p["seq"] - p["count"] + 1, p["seq"] + 1) if p["user"] == OFFLINE else listed:
            if seq in seen:
                duplicates += 1
                ledger.problem(f"{room}/{seq} was pushed to {p['user']} in two deliveries")
            seen.add(seq)
    return len(bodies), duplicates, missing


def room_file(directory, room):
    """The file of `room` ("kind/id") under the data directory (docs/ARCHITECTURE.md, StorageLayout)."""
    digest = hashlib.sha256(room.encode()).hexdigest()
    return os.path.join(directory, "data", "rooms", room.split("/")[0], digest[:2], digest[2:4], f"{digest}.sqlite")


def owed_on_disk(directory, rooms):
    """What the rooms' files still owe, read beside the running server (read-only): inbox updates
    (`inbox_outbox` rows) and pushes (owed or undelivered)."""
    inbox = push = 0
    for room in rooms:
        db = sqlite3.connect(f"file:{room_file(directory, room)}?mode=ro", uri=True, timeout=10)
        try:
            inbox += db.execute("SELECT count(*) FROM inbox_outbox").fetchone()[0]
            push += db.execute("SELECT count(*) FROM push_deliveries").fetchone()[0]
            push += db.execute("SELECT count(*) FROM push_state WHERE due_at IS NOT NULL").fetchone()[0]
        finally:
            db.close()
    return inbox, push


def verify_outboxes(ledger, directory, rooms, deadline):
    """Waits until the rooms owe no inbox update (or the deadline passes: a problem); returns the
    inbox updates and the pushes still owed then (a push still being retried is not a problem)."""
    while True:
        inbox, push = owed_on_disk(directory, rooms)
        if (inbox == 0 and push == 0) or time.time() > deadline:
            break
        time.sleep(0.5)
    if inbox:
        ledger.problem(f"after {SETTLE_SECONDS} s, the rooms still owe {inbox} inbox updates")
    return inbox, push


def set_up_rooms(port, team_rooms):
    """Creates the members rooms and the direct room; returns the direct room ("dm/ID")."""
    for room in team_rooms:
        status, answer = http_request(port, "POST", f"/rooms/{room}?user={OWNER}",
                                      {"members": [{"user": u, "role": "member"} for u in MEMBERS + [OFFLINE]]})
        if status != 201:
            raise SystemExit(f"creating {room}: {status} {answer}")
    status, answer = http_request(port, "POST", f"/direct/dm?user={MEMBERS[0]}", {"with": MEMBERS[1]})
    if status not in (200, 201):
        raise SystemExit(f"opening the direct room: {status} {answer}")
    return f"dm/{answer['id']}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=".build/debug/rooms")
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--signal", choices=["kill", "term", "mixed"], default="mixed",
                        help="kill: SIGKILL every cycle; term: SIGTERM; mixed: SIGTERM every fourth cycle")
    parser.add_argument("--rooms", type=int, default=4, help="open chat rooms (besides 2 members rooms and a direct room)")
    parser.add_argument("--senders", type=int, default=6, help="HTTP senders")
    parser.add_argument("--socket-senders", type=int, default=3, help="WebSocket senders (needs websocket-client)")
    parser.add_argument("--push-failures", type=float, default=0.05, help="share of push attempts answered 500")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--min-up", type=float, default=0.3, help="shortest run before a kill, seconds")
    parser.add_argument("--max-up", type=float, default=2.0, help="longest run before a kill, seconds")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)

    ledger = Ledger()
    secret = f"torture-{rng.randrange(1 << 30)}"
    os.environ[PUSH_SECRET_ENV] = secret  # the server inherits the environment
    receiver = PushReceiver(ledger, secret, args.push_failures, random.Random(rng.random()))
    port = free_port()
    directory = tempfile.mkdtemp(prefix="rooms-torture-")
    kinds = {
        "chat": {"class": "chat"},
        "team": {"class": "chat", "access": "members", "inboxDelayMilliseconds": 200},
        "dm": {"class": "chat", "access": "direct", "inboxDelayMilliseconds": 200},
    }
    push = {"push": {"url": f"http://127.0.0.1:{receiver.port}/push", "secretEnv": PUSH_SECRET_ENV,
                     "delaySeconds": 1, "timeoutSeconds": 2}}
    server = Server(os.path.abspath(args.binary), directory, port, kinds, sections=push)
    tag = rng.randrange(1 << 30)
    chat_rooms = [f"chat/t{tag}-{i}" for i in range(args.rooms)]
    team_rooms = [f"team/g{tag}-{i}" for i in range(2)]

    server.start()
    dm_room = set_up_rooms(port, team_rooms)
    posters = [OWNER, *MEMBERS]
    targets = [(room, ["torture"]) for room in chat_rooms] + [(room, posters) for room in team_rooms] + \
              [(dm_room, MEMBERS)]
    stop = threading.Event()
    threads = [threading.Thread(target=http_sender, args=(ledger, port, f"h{i}", targets, stop, random.Random(rng.random())), daemon=True)
               for i in range(args.senders)]
    threads.append(threading.Thread(target=member_changer, args=(ledger, port, team_rooms, stop, random.Random(rng.random())), daemon=True))
    if websocket is not None:
        threads += [threading.Thread(target=ws_sender, args=(ledger, port, f"w{i}", "torture", chat_rooms, stop, random.Random(rng.random())), daemon=True)
                    for i in range(args.socket_senders)]
        for user in posters:
            rooms = team_rooms + ([dm_room] if user in MEMBERS else [])
            threads.append(threading.Thread(target=ws_sender, args=(ledger, port, f"{user}w", user, rooms, stop, random.Random(rng.random()), True), daemon=True))
    else:
        print("websocket-client is not installed: HTTP senders only", file=sys.stderr)

    kills = terms = 0
    started = time.time()
    for t in threads:
        t.start()
    for cycle in range(args.cycles):
        time.sleep(rng.uniform(args.min_up, args.max_up))
        graceful = args.signal == "term" or (args.signal == "mixed" and cycle % 4 == 3)
        code = server.stop(signal.SIGTERM if graceful else signal.SIGKILL)
        if graceful:
            terms += 1
            if code != 0:
                ledger.problem(f"cycle {cycle}: SIGTERM ended the server with {code}")
        else:
            kills += 1
        server.start()
    stop.set()
    for t in threads:
        t.join(timeout=SILENCE_SECONDS + 10)
    settle(ledger, port)
    # Scheduled messages are due within 3 s of their sending; wait for the last one.
    if ledger.scheduled:
        time.sleep(max(0.0, max(ledger.scheduled.values()) / 1000 - time.time()) + 2)
    deadline = time.time() + SETTLE_SECONDS
    readers = {**{room: "reader" for room in chat_rooms}, **{room: OWNER for room in team_rooms}, dm_room: MEMBERS[0]}
    histories = {room: history(port, room, reader) for room, reader in readers.items()}
    stored, lost, duplicated = verify_log(ledger, histories)
    receipts, receipts_checked = verify_receipts(ledger, port, histories, {r: readers[r] for r in team_rooms + [dm_room]})
    members, members_checked = verify_members(ledger, port, team_rooms)
    inboxes = expected_inboxes(histories, members, receipts, dm_room)
    inboxes_checked, inbox_mismatches = verify_inboxes(ledger, port, inboxes, deadline)
    pushes, push_duplicates, push_missing = verify_pushes(ledger, histories, team_rooms, deadline)
    inbox_owed, push_owed = verify_outboxes(ledger, directory, team_rooms + [dm_room], deadline)
    if ledger.silences:
        ledger.problem(f"{ledger.silences} sends got neither an answer nor a closed connection within {SILENCE_SECONDS} s")
    code = server.stop(signal.SIGTERM)
    if code != 0:
        ledger.problem(f"the last SIGTERM ended the server with {code}")
    receiver.close()

    summary = {
        "seed": seed, "cycles": args.cycles, "sigkill": kills, "sigterm": terms,
        "seconds": round(time.time() - started, 1), "sent": len(ledger.sent), "acknowledged": len(ledger.acked),
        "scheduled": len(ledger.scheduled), "stored": stored, "lost": lost, "duplicated": duplicated,
        "silences": ledger.silences,
        "reads_acknowledged": ledger.read_acks, "receipts_checked": receipts_checked,
        "member_changes": sum(ok for changes in ledger.member_changes.values() for _, ok in changes),
        "members_checked": members_checked,
        "inboxes_checked": inboxes_checked, "inbox_mismatches": inbox_mismatches,
        "pushes": pushes, "push_arrivals": ledger.push_arrivals, "push_duplicates": push_duplicates,
        "push_missing": push_missing, "inbox_updates_owed": inbox_owed, "pushes_owed": push_owed,
        "refusals": ledger.refusals, "problems": len(ledger.problems),
    }
    for text in ledger.problems:
        print("PROBLEM:", text)
    if ledger.problems:
        print(f"data kept in {directory}", file=sys.stderr)
    elif not args.keep:
        shutil.rmtree(directory, ignore_errors=True)
    print(json.dumps(summary))
    return 1 if ledger.problems else 0


if __name__ == "__main__":
    sys.exit(main())
