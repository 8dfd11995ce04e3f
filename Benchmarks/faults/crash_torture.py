#!/usr/bin/env python3
"""Crash torture: kill `rooms serve` again and again under load, then prove nothing acknowledged was lost.

Senders post chat messages with ids over HTTP (and over WebSocket when the websocket-client package
is installed) to a few rooms, some of them scheduled for a moment later, while this program kills
the server at a random moment (SIGKILL, or SIGTERM for a graceful stop) and restarts it on the same
data directory, cycle after cycle. A send that got no answer is resent with the same id (sends are
idempotent), as a real client would. At the end it checks, from each room's history:

- every acknowledged message is there exactly once, with the seq its ack gave;
- seqs run 1..N with no gap and no id twice;
- nothing is stored that was never sent;
- every acknowledged scheduled message was delivered exactly once;
- SIGTERM cycles: every send got an answer or a closed connection, never silence (no request hangs).

Usage (from the repository's root, after `swift build`):
    python3 Benchmarks/faults/crash_torture.py --binary .build/debug/rooms --cycles 5
    python3 Benchmarks/faults/crash_torture.py --binary .build/release/rooms --cycles 200 --signal mixed
Exit status 0 when every check holds; 1 otherwise. The last line is a JSON summary.
"""

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from rooms_server import Server, free_port

try:
    import websocket  # websocket-client
except ImportError:  # HTTP senders only
    websocket = None

ROOMS_KIND = "chat"
# How long one request may take before it counts as silence. A graceful stop answers or closes
# within the server's shutdown timeout (set to 10 s below); a killed server closes at once.
SILENCE_SECONDS = 20


class Ledger:
    """What the senders sent and what was acknowledged, shared by every sender thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sent = set()  # (room, id) of every message ever sent, acked or not
        self.acked = {}  # (room, id) -> seq
        self.scheduled = {}  # (room, id) -> deliverAt in ms, acknowledged as scheduled
        self.unresolved = set()  # (room, id, text, deliverAt) sent without an answer: resent later
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


def post(ledger, port, room, mid, text, deliver_at):
    """Sends one message over HTTP; records the outcome. Returns True when it was answered."""
    body = {"user": "torture", "id": mid, "text": text}
    if deliver_at is not None:
        body["deliverAt"] = deliver_at
    with ledger.lock:
        ledger.sent.add((room, mid))
    try:
        status, answer = http_request(port, "POST", f"/rooms/{ROOMS_KIND}/{room}/messages", body)
    except socket.timeout:
        with ledger.lock:
            ledger.silences += 1
            ledger.unresolved.add((room, mid, text, deliver_at))
        return False
    except (OSError, http.client.HTTPException):
        with ledger.lock:
            ledger.unresolved.add((room, mid, text, deliver_at))
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
            ledger.unresolved.add((room, mid, text, deliver_at))
        if status not in (503,):
            ledger.problem(f"{room}/{mid}: unexpected answer {status} {answer}")
    return True


def http_sender(ledger, port, name, rooms, stop, rng):
    n = 0
    while not stop.is_set():
        n += 1
        room = rng.choice(rooms)
        deliver_at = None
        if rng.random() < 0.03:
            deliver_at = int(time.time() * 1000) + rng.randint(300, 3000)
        post(ledger, port, room, f"{name}-{n}", f"{name} {n}", deliver_at)


def ws_sender(ledger, port, name, rooms, stop, rng):
    """Sends over one WebSocket at a time, each send waiting for its ack; reconnects after a drop."""
    n = 0
    while not stop.is_set():
        room = rng.choice(rooms)
        try:
            ws = websocket.create_connection(
                f"ws://127.0.0.1:{port}/rooms/{ROOMS_KIND}/{room}/ws?user=torture", timeout=SILENCE_SECONDS)
        except (OSError, websocket.WebSocketException):
            time.sleep(0.05)
            continue
        try:
            for _ in range(rng.randint(5, 50)):
                if stop.is_set():
                    break
                n += 1
                mid = f"{name}-{n}"
                with ledger.lock:
                    ledger.sent.add((room, mid))
                    ledger.unresolved.add((room, mid, f"{name} {n}", None))
                ws.send(json.dumps({"type": "send", "id": mid, "text": f"{name} {n}"}))
                while True:
                    frame = json.loads(ws.recv())
                    if frame.get("type") == "ack" and frame.get("id") == mid:
                        ledger.ack(room, mid, frame["seq"])
                        with ledger.lock:
                            ledger.unresolved.discard((room, mid, f"{name} {n}", None))
                        break
                    if frame.get("type") == "error" and frame.get("id") == mid:
                        break  # not stored; stays unresolved and is resent over HTTP
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


def settle(ledger, port):
    """Resends every unresolved message by its id until each has an answer."""
    for _ in range(20):
        with ledger.lock:
            pending = list(ledger.unresolved)
            ledger.unresolved.clear()
        if not pending:
            return
        for room, mid, text, deliver_at in pending:
            if deliver_at is not None and deliver_at <= time.time() * 1000:
                deliver_at = int(time.time() * 1000) + 500  # still in the future, as the API requires
            post(ledger, port, room, mid, text, deliver_at)
            with ledger.lock:
                if (room, mid) in ledger.acked or (room, mid) in ledger.scheduled:
                    ledger.unresolved.discard((room, mid, text, deliver_at))
        time.sleep(0.2)
    ledger.problem(f"{len(ledger.unresolved)} sends never got an answer after the last restart")


def history(port, room):
    messages, after = [], 0
    while True:
        status, page = http_request(port, "GET", f"/rooms/{ROOMS_KIND}/{room}/messages?after={after}&limit=500&user=reader")
        if status != 200:
            raise SystemExit(f"history of {room}: {status} {page}")
        batch = page.get("messages", [])
        if not batch:
            return messages
        messages += batch
        after = batch[-1]["seq"]


def verify(ledger, port, rooms):
    stored = 0
    duplicated = 0
    lost = 0
    for room in rooms:
        messages = history(port, room)
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=".build/debug/rooms")
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--signal", choices=["kill", "term", "mixed"], default="mixed",
                        help="kill: SIGKILL every cycle; term: SIGTERM; mixed: SIGTERM every fourth cycle")
    parser.add_argument("--rooms", type=int, default=4)
    parser.add_argument("--senders", type=int, default=6, help="HTTP senders")
    parser.add_argument("--socket-senders", type=int, default=3, help="WebSocket senders (needs websocket-client)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--min-up", type=float, default=0.3, help="shortest run before a kill, seconds")
    parser.add_argument("--max-up", type=float, default=2.0, help="longest run before a kill, seconds")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)

    port = free_port()
    directory = tempfile.mkdtemp(prefix="rooms-torture-")
    server = Server(os.path.abspath(args.binary), directory, port, {ROOMS_KIND: {"class": "chat"}})
    rooms = [f"t{rng.randrange(1 << 30)}-{i}" for i in range(args.rooms)]
    ledger = Ledger()
    stop = threading.Event()
    threads = [threading.Thread(target=http_sender, args=(ledger, port, f"h{i}", rooms, stop, random.Random(rng.random())), daemon=True)
               for i in range(args.senders)]
    if websocket is not None:
        threads += [threading.Thread(target=ws_sender, args=(ledger, port, f"w{i}", rooms, stop, random.Random(rng.random())), daemon=True)
                    for i in range(args.socket_senders)]
    else:
        print("websocket-client is not installed: HTTP senders only", file=sys.stderr)

    kills = terms = 0
    started = time.time()
    server.start()
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
    stored, lost, duplicated = verify(ledger, port, rooms)
    if ledger.silences:
        ledger.problem(f"{ledger.silences} sends got neither an answer nor a closed connection within {SILENCE_SECONDS} s")
    code = server.stop(signal.SIGTERM)
    if code != 0:
        ledger.problem(f"the last SIGTERM ended the server with {code}")

    summary = {
        "seed": seed, "cycles": args.cycles, "sigkill": kills, "sigterm": terms,
        "seconds": round(time.time() - started, 1), "sent": len(ledger.sent), "acknowledged": len(ledger.acked),
        "scheduled": len(ledger.scheduled), "stored": stored, "lost": lost, "duplicated": duplicated,
        "silences": ledger.silences, "refusals": ledger.refusals, "problems": len(ledger.problems),
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
