#!/usr/bin/env python3
"""Wire fuzzer: mutated HTTP requests and WebSocket frames against `rooms serve`, from outside the process.

For a set time, worker threads send requests built from the routes docs/PROTOCOL.md lists and then
mutated (bytes flipped, inserted, cut, repeated; odd methods, paths, queries, headers and bodies),
and open WebSockets to rooms of every built-in class to send mutated frames: invalid UTF-8, deep
nesting, huge numbers, unknown types and fields, fragments out of order, reserved bits, unmasked,
oversize and binary frames, control frames over 125 bytes. Afterwards it checks that:

- the node is alive and answers GET /healthz;
- every HTTP error answer (4xx, 5xx) carried a JSON body whose `error.code` docs/PROTOCOL.md lists;
- every WebSocket `error` frame's code and every close code are ones docs/PROTOCOL.md lists;
- the server's memory, sampled after a warm-up, at half time and after the run and a pause, ended
  within --memory-slack MiB of the start and within --leak-slack MiB of half time (no growth once
  buffers and caches are warm).

Usage (from the repository's root, after `swift build`):
    python3 Benchmarks/faults/wire_fuzz.py --binary .build/debug/rooms --seconds 20
    python3 Benchmarks/faults/wire_fuzz.py --binary .build/release/rooms --seconds 600
Exit status 0 when every check holds; 1 otherwise. The last line is a JSON summary.
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import sys
import tempfile
import threading
import time

from rooms_server import Server, free_port

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def documented_codes():
    """The error codes and close codes docs/PROTOCOL.md lists in its two tables."""
    text = open(os.path.join(ROOT, "docs", "PROTOCOL.md"), encoding="utf-8").read()
    errors_section = text.split("## Error codes", 1)[1]
    errors = set()
    for line in errors_section.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            errors.update(re.findall(r"`([a-z_]+)`", first_cell))
    closes_section = text.split("## Close codes", 1)[1].split("## Error codes", 1)[0]
    closes = {int(m) for m in re.findall(r"^\| (\d{4}) \|", closes_section, re.M)}
    return errors, closes


class Tally:
    def __init__(self):
        self.lock = threading.RLock()
        self.counts = {}
        self.problems = []

    def count(self, key, n=1):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + n

    def problem(self, text):
        with self.lock:
            self.count("problems")
            if len(self.problems) < 40:
                self.problems.append(text)


# --- inputs ---------------------------------------------------------------------------------------

FIELD_NAMES = ["type", "id", "text", "deliverAt", "after", "epoch", "seq", "user", "op", "base", "cell",
               "cursor", "prompt", "stream", "token", "tags", "members", "role", "position", "version", "upTo"]
TYPES = ["send", "read", "typing", "ping", "auth", "op", "cursor", "move", "join", "ai.prompt", "ai.cancel",
         "increment", "presence", "history", "receipt", "", "SEND", "\u0000", "send\u0000"]


def odd_value(rng, depth=0):
    choice = rng.randrange(14)
    if choice == 0:
        return rng.choice([0, -1, 1, 2**31, 2**53 + 1, -(2**63), 2**64, 10**30])
    if choice == 1:
        return rng.choice([1e308, -1e308, 0.5, 1e-320])
    if choice == 2:
        return "".join(chr(rng.randrange(1, 0x2FFF)) for _ in range(rng.randrange(0, 40)))
    if choice == 3:
        return "x" * rng.choice([0, 1, 128, 129, 4096, 4097, 70000])
    if choice == 4:
        return None
    if choice == 5:
        return rng.choice([True, False])
    if choice == 6 and depth < 4:
        return [odd_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    if choice == 7 and depth < 4:
        return {rng.choice(FIELD_NAMES): odd_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))}
    if choice == 8:
        return rng.choice(TYPES)
    if choice == 9:
        return [{"retain": rng.randrange(-2, 50)}, {"insert": "ab"}, {"delete": rng.randrange(-2, 9)}][: rng.randrange(0, 4)]
    if choice == 10:
        return "\ud800" if False else "😀" * rng.randrange(0, 5)
    return rng.randrange(-5, 100)


def frame_payload(rng):
    """The bytes of one text frame: mostly JSON-ish, sometimes broken on purpose."""
    kind = rng.randrange(10)
    if kind == 0:
        depth = rng.choice([100, 1000, 100000])
        return ("[" * depth + "]" * depth).encode()
    if kind == 1:
        return b'{"type": "send", "text": "x", "id": ' + b"9" * rng.choice([20, 400, 5000]) + b"}"
    if kind == 2:
        return b'{"type": "send", "text": "' + bytes([0xC3, 0x28, 0xFF, 0xFE]) + b'"}'  # invalid UTF-8
    if kind == 3:
        return b'{"type": "send", "text": 1e999999}'
    if kind == 4:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 64)))
    frame = {"type": rng.choice(TYPES)}
    for _ in range(rng.randrange(0, 5)):
        frame[rng.choice(FIELD_NAMES)] = odd_value(rng)
    data = json.dumps(frame, ensure_ascii=rng.random() < 0.5).encode()
    if kind == 5 and data:  # one byte changed
        index = rng.randrange(len(data))
        data = data[:index] + bytes([rng.randrange(256)]) + data[index + 1:]
    if kind == 6:
        data = data[: rng.randrange(len(data) + 1)]
    return data


def ws_frame(opcode, payload, fin=True, mask=True, rsv=0):
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    n = len(payload)
    mask_bit = 0x80 if mask else 0
    if n < 126:
        head += bytes([mask_bit | n])
    elif n < 65536:
        head += bytes([mask_bit | 126]) + struct.pack(">H", n)
    else:
        head += bytes([mask_bit | 127]) + struct.pack(">Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def ws_frames(rng, max_frame_bytes):
    """A short run of frames, valid and not, as the wire carries them."""
    out = []
    for _ in range(rng.randrange(1, 6)):
        choice = rng.randrange(12)
        payload = frame_payload(rng)
        if choice <= 5:
            out.append(ws_frame(0x1, payload))
        elif choice == 6:  # fragments, sometimes out of order
            cut = rng.randrange(len(payload) + 1)
            first, second = ws_frame(0x1, payload[:cut], fin=False), ws_frame(0x0, payload[cut:])
            out += [second, first] if rng.random() < 0.3 else [first, second]
        elif choice == 7:
            out.append(ws_frame(0x2, payload))  # binary
        elif choice == 8:
            out.append(ws_frame(0x1, b"x" * (max_frame_bytes + rng.randrange(1, 1000))))  # oversize
        elif choice == 9:
            out.append(ws_frame(rng.choice([0x9, 0xA, 0x8]), payload[: rng.choice([0, 10, 125, 126, 300])]))
        elif choice == 10:
            out.append(ws_frame(rng.choice([0x3, 0x7, 0xB, 0xF]), payload, rsv=rng.randrange(8)))
        else:
            out.append(ws_frame(0x1, payload, mask=False))
    return b"".join(out)


def http_request_bytes(rng, kinds):
    kind = rng.choice(kinds + ["nope", "", "%2e%2e", "a" * 300])
    room = rng.choice(["r1", "", "%00", "%ff%fe", "a/b", "..", "x" * 300, "%E2%82", "ok-" + str(rng.randrange(9))])
    path = rng.choice([
        f"/rooms/{kind}/{room}/messages", f"/rooms/{kind}/{room}", f"/rooms/{kind}/{room}/members",
        f"/rooms/{kind}/{room}/ws", f"/rooms/{kind}/{room}/events", f"/rooms/{kind}/{room}/receipts",
        f"/rooms/{kind}/{room}/text", f"/rooms/{kind}/{room}/versions", f"/rooms/{kind}", "/rooms", "/inbox",
        "/healthz", "/metrics", "/app/settings", "/", f"/direct/{kind}", "/" + "a" * 5000, "*", "//rooms//"])
    query = rng.choice(["", "?after=1", "?after=-1&limit=0", "?limit=999999999999999999999", "?user=ann",
                        "?user=%00", "?wait=31&after=0", "?version=abc", "?=&&=", "?after=1&after=2", "?%zz"])
    method = rng.choice(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "BREW", "G\x00T", ""])
    body = b""
    if rng.random() < 0.6:
        body = frame_payload(rng)
    headers = ["Host: 127.0.0.1", "Connection: close"]
    if body or rng.random() < 0.2:
        length = len(body) if rng.random() < 0.85 else rng.choice([0, len(body) + 5, -1, 10**20])
        headers.append(f"Content-Length: {length}")
    if rng.random() < 0.15:
        headers.append("Transfer-Encoding: chunked")
    if rng.random() < 0.2:
        headers.append(rng.choice(["Upgrade: websocket", "Content-Type: text/plain", "Authorization: Bearer x.y.z",
                                   "Origin: http://evil", "X: " + "y" * 70000, "Bad Header", "\x01: \x02"]))
    raw = f"{method} {path}{query} HTTP/1.1\r\n".encode() + "\r\n".join(headers).encode() + b"\r\n\r\n" + body
    if rng.random() < 0.25:  # byte-level damage
        data = bytearray(raw)
        for _ in range(rng.randrange(1, 4)):
            op, index = rng.randrange(3), rng.randrange(len(data))
            if op == 0:
                data[index] = rng.randrange(256)
            elif op == 1:
                data[index:index] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 8)))
            else:
                del data[index: index + rng.randrange(1, 8)]
        raw = bytes(data)
    return raw


# --- reading answers -----------------------------------------------------------------------------

def read_until_closed(sock, seconds):
    sock.settimeout(0.2)
    data, deadline = b"", time.time() + seconds
    while time.time() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            return data, True
        if not chunk:
            return data, True
        data += chunk
    return data, False


def check_http_answer(tally, errors, data, request):
    if not data:
        tally.count("http unanswered")  # an incomplete request waits for its head timeout; we hung up first
        return
    match = re.match(rb"HTTP/1\.1 (\d{3})", data)
    if not match:
        tally.problem(f"not an HTTP answer: {data[:80]!r} to {request[:80]!r}")
        return
    status = int(match.group(1))
    tally.count(f"http {status}")
    if status < 400:
        return
    head, _, body = data.partition(b"\r\n\r\n")
    if request.startswith(b"HEAD "):
        return
    # Only this answer's body: a request's leftover bytes may have drawn a second answer after it.
    length = re.search(rb"\r\ncontent-length: *(\d+)", head, re.I)
    if length:
        body = body[: int(length.group(1))]
    try:
        code = json.loads(body.decode("utf-8"))["error"]["code"]
    except Exception:
        # A body cut short by our read window (a long answer) is not the server's fault.
        tally.problem(f"{status} without a JSON error body: {data[:160]!r} to {request[:100]!r}")
        return
    if code not in errors:
        tally.problem(f"undocumented error code {code!r} ({status}) to {request[:100]!r}")


def parse_server_frames(data):
    """(opcode, payload) of the unmasked frames a server sent."""
    frames, i = [], 0
    while i + 2 <= len(data):
        opcode, n = data[i] & 0x0F, data[i + 1] & 0x7F
        i += 2
        if n == 126:
            if i + 2 > len(data):
                break
            n = struct.unpack(">H", data[i:i + 2])[0]
            i += 2
        elif n == 127:
            if i + 8 > len(data):
                break
            n = struct.unpack(">Q", data[i:i + 8])[0]
            i += 8
        if i + n > len(data):
            break
        frames.append((opcode, data[i:i + n]))
        i += n
    return frames


def check_ws_answer(tally, errors, closes, data, relays):
    """Checks the frames a server sent; `relays` when the room relays its clients' frames verbatim."""
    for opcode, payload in parse_server_frames(data):
        if opcode == 0x1:
            try:
                frame = json.loads(payload.decode("utf-8"))
            except Exception:
                frame = None
            if not isinstance(frame, dict):
                if not relays:  # a relay room passes on what its clients send, JSON or not
                    tally.problem(f"a text frame that is not a JSON object: {payload[:80]!r}")
                continue
            if frame.get("type") == "error":
                tally.count(f"ws error {frame.get('code')}")
                if frame.get("code") not in errors:
                    tally.problem(f"undocumented error frame code {frame.get('code')!r}")
        elif opcode == 0x8:
            code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 1005
            tally.count(f"ws close {code}")
            if code != 1005 and code not in closes:
                tally.problem(f"undocumented close code {code}")


# --- workers -------------------------------------------------------------------------------------

def http_worker(tally, errors, port, kinds, stop, rng):
    while not stop.is_set():
        request = http_request_bytes(rng, kinds)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(request)
                data, closed = read_until_closed(sock, 2)
        except OSError as error:
            tally.count(f"http connect {type(error).__name__}")
            continue
        tally.count("http requests")
        if closed and not data:
            # The server hung up without a word: every refusal has an answer.
            tally.problem(f"closed without an answer: {request[:160]!r}")
            continue
        check_http_answer(tally, errors, data, request)


def ws_worker(tally, errors, closes, port, kinds, stop, rng, max_frame_bytes):
    """`kinds` maps each kind to its class."""
    while not stop.is_set():
        kind = rng.choice(sorted(kinds))
        path = f"/rooms/{kind}/fz{rng.randrange(20)}/ws?user=u{rng.randrange(5)}"
        upgrade = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(upgrade)
                sock.settimeout(5)
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    head += chunk
                if not head.startswith(b"HTTP/1.1 101"):
                    check_http_answer(tally, errors, head, upgrade)
                    continue
                tally.count("ws sessions")
                rest = head.split(b"\r\n\r\n", 1)[1]
                for _ in range(rng.randrange(1, 8)):
                    sock.sendall(ws_frames(rng, max_frame_bytes))
                    tally.count("ws frame runs")
                data, _ = read_until_closed(sock, 0.5)
                check_ws_answer(tally, errors, closes, rest + data, kinds[kind] == "relay")
        except OSError as error:
            tally.count(f"ws {type(error).__name__}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=".build/debug/rooms")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=4, help="threads of each sort (HTTP, WebSocket)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--memory-slack", type=float, default=64, help="MiB the memory may end above its start")
    parser.add_argument("--leak-slack", type=float, default=16,
                        help="MiB the memory may end above what it was at half time")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    errors, closes = documented_codes()

    example = json.load(open(os.path.join(ROOT, "rooms.example.json")))
    kinds = example["kinds"]
    max_frame_bytes = example["server"].get("maxFrameBytes", 65536)
    directory = tempfile.mkdtemp(prefix="rooms-wirefuzz-")
    port = free_port()
    server = Server(os.path.abspath(args.binary), directory, port, kinds,
                    {k: v for k, v in example["server"].items() if k not in ("host", "port")})
    server.start()
    tally = Tally()
    names = {k: v["class"] for k, v in kinds.items() if k != "inbox"}

    # Warm up with well-formed traffic, then take the baseline.
    warm_stop = threading.Event()
    warm = threading.Thread(target=ws_worker, args=(Tally(), errors, closes, port, names, warm_stop, random.Random(1), max_frame_bytes))
    warm.start()
    time.sleep(2)
    warm_stop.set()
    warm.join()
    time.sleep(1)
    rss_start = server.rss_kib()

    stop = threading.Event()
    threads = [threading.Thread(target=http_worker, args=(tally, errors, port, sorted(names), stop, random.Random(rng.random())))
               for _ in range(args.workers)]
    threads += [threading.Thread(target=ws_worker, args=(tally, errors, closes, port, names, stop, random.Random(rng.random()), max_frame_bytes))
                for _ in range(args.workers)]
    for t in threads:
        t.start()
    started = time.time()
    rss_peak, rss_half, deadline = rss_start, 0, started + args.seconds
    while time.time() < deadline:
        time.sleep(0.5)
        rss_peak = max(rss_peak, server.rss_kib())
        if not rss_half and time.time() >= started + args.seconds / 2:
            rss_half = server.rss_kib()
        if not server.alive():
            break
    stop.set()
    for t in threads:
        t.join(timeout=15)

    if not server.alive():
        tally.problem(f"the server died (status {server.process.returncode}); see {server.log.name}")
    else:
        time.sleep(max(5, min(30, args.seconds / 10)))  # let idle rooms hibernate and buffers go back
        rss_end = server.rss_kib()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                data, _ = read_until_closed(sock, 5)
            if not data.startswith(b"HTTP/1.1 200"):
                tally.problem(f"/healthz answered {data[:60]!r}")
        except OSError as error:
            tally.problem(f"/healthz: {error}")
        # Buffers and caches fill in the first half (the allocator keeps what it took); a leak keeps
        # growing in the second.
        if rss_end > rss_start + args.memory_slack * 1024:
            tally.problem(f"memory did not come back: {rss_start} KiB at start, {rss_end} KiB after the run")
        if rss_half and rss_end > rss_half + args.leak_slack * 1024:
            tally.problem(f"memory grew in the second half: {rss_half} KiB at half time, {rss_end} KiB after the run")
        code = server.stop(signal.SIGTERM)
        if code != 0:
            tally.problem(f"SIGTERM ended the server with {code}")
    summary = {
        "seed": seed, "seconds": args.seconds, "http_requests": tally.counts.get("http requests", 0),
        "ws_sessions": tally.counts.get("ws sessions", 0), "ws_frame_runs": tally.counts.get("ws frame runs", 0),
        "rss_kib": {"start": rss_start, "half": rss_half, "peak": rss_peak, "end": locals().get("rss_end", 0)},
        "problems": tally.counts.get("problems", 0),
        "answers": {k: v for k, v in sorted(tally.counts.items()) if k.startswith(("http ", "ws "))},
    }
    for text in tally.problems:
        print("PROBLEM:", text)
    if tally.problems:
        print(f"server data and log kept in {directory}", file=sys.stderr)
    else:
        shutil.rmtree(directory, ignore_errors=True)
    print(json.dumps(summary))
    return 1 if tally.problems else 0


if __name__ == "__main__":
    sys.exit(main())
