#!/usr/bin/env python3
"""The two misbehaving clients of `rooms bench slow`, for checking its figures with wsload.

For --seconds, beside whatever load runs against the server: one listener joins --room and never
reads (a 4 KiB receive buffer), and one client floods a room of its own with chat messages without
reading its answers, connecting again each time the server ends its connection. At the end the
listener reads what was left for it. Prints one JSON line: the listener's frames and close code,
the flood's messages written and connections ended.

Usage, beside wsload's readers (see docs/BENCHMARKS.md, "Slow consumers and floods"):
    python3 Benchmarks/faults/misbehaving_clients.py --port 8080 --room /rooms/chat/slow-0 --seconds 30
"""

import argparse
import json
import socket
import struct
import threading
import time

from wire_fuzz import parse_server_frames


def upgrade(port, path):
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    head = b""
    while not head.endswith(b"\r\n\r\n"):  # a byte at a time: nothing after the head is taken
        byte = sock.recv(1)
        if not byte:
            raise SystemExit(f"{path}: closed during the upgrade")
        head += byte
    if not head.startswith(b"HTTP/1.1 101"):
        raise SystemExit(f"{path}: {head[:60]!r}")
    return sock


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--room", required=True, help="the readers' room path, e.g. /rooms/chat/slow-0")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args()

    stalled = upgrade(args.port, f"{args.room}/ws?user=stalled")
    stop = threading.Event()
    flood = {"sent": 0, "closed": 0}
    current = {}
    payload = json.dumps({"type": "send", "text": "f" * args.size}).encode()
    mask = b"\x37\xfa\x21\x3d"
    frame = bytes([0x81, 0x80 | 126]) + struct.pack(">H", len(payload)) if len(payload) >= 126 else bytes([0x81, 0x80 | len(payload)])
    frame += mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))

    def flooder():
        while not stop.is_set():
            try:
                sock = upgrade(args.port, f"/rooms/chat/flood-{int(time.time())}/ws?user=flooder")
            except (OSError, SystemExit):
                time.sleep(0.05)
                continue
            current["sock"] = sock
            try:
                while not stop.is_set():
                    sock.sendall(frame)
                    flood["sent"] += 1
            except OSError:
                if not stop.is_set():
                    flood["closed"] += 1

    thread = threading.Thread(target=flooder, daemon=True)
    thread.start()
    time.sleep(args.seconds)
    stop.set()
    if "sock" in current:
        try:
            current["sock"].shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    thread.join(5)

    stalled.settimeout(2)
    data = b""
    try:
        while True:
            chunk = stalled.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    got = parse_server_frames(data)
    close = next((struct.unpack(">H", p[:2])[0] for op, p in got if op == 8 and len(p) >= 2), None)
    print(json.dumps({"stalled_frames": sum(1 for op, _ in got if op == 1), "stalled_close_code": close,
                      "flood_sent": flood["sent"], "flood_closed": flood["closed"]}))


if __name__ == "__main__":
    main()
