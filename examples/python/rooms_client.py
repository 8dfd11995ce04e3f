#!/usr/bin/env python3
"""A DurableRooms client in plain Python (standard library only), written from docs/PROTOCOL.md.

It speaks just enough RFC 6455 to chat: the opening handshake, masked text frames out,
text/close/ping frames in. Use it as a library (`RoomSocket`, `http`) or from the command line:

    python3 examples/python/rooms_client.py ws://127.0.0.1:8080/rooms/chat/lobby/ws?user=ann

then type lines to send them as chat messages, or type a JSON object to send it as the frame
itself (`{"type": "move", "cell": 4}`); frames from the server are printed as they arrive.
"""
import base64
import hashlib
import json
import os
import select
import socket
import struct
import sys
import urllib.parse
import urllib.request

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Closed(Exception):
    """The server closed the connection; `code` is its close code."""

    def __init__(self, code, reason=""):
        super().__init__(f"closed with {code} {reason}")
        self.code = code
        self.reason = reason


class RoomSocket:
    """One WebSocket connection to a room."""

    def __init__(self, url, timeout=10.0, headers=None):
        parts = urllib.parse.urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        target = parts.path + ("?" + parts.query if parts.query else "")
        request = (
            f"GET {target} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            + "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
            + "\r\n"
        )
        self.sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("connection closed during the handshake")
            head += chunk
        head, self.buffer = head.split(b"\r\n\r\n", 1)
        status_line = head.split(b"\r\n")[0].decode()
        status = int(status_line.split()[1])
        if status != 101:
            body = self.buffer
            refused = ConnectionRefusedError(f"upgrade refused: {status} {body.decode(errors='replace')}")
            refused.status = status
            refused.body = body
            raise refused
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        if accept.encode() not in head:
            raise ConnectionError("bad Sec-WebSocket-Accept")
        self.close_code = None

    def _read(self, count):
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Closed(self.close_code or 1006)
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def _send_frame(self, opcode, payload):
        mask = os.urandom(4)
        header = bytes([0x80 | opcode])
        length = len(payload)
        if length < 126:
            header += bytes([0x80 | length])
        elif length < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", length)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send(self, frame):
        """Sends a JSON object (a dict) or raw text as one text frame."""
        text = frame if isinstance(frame, str) else json.dumps(frame)
        self._send_frame(0x1, text.encode())

    def receive(self, idle_ok=False):
        """The next frame from the server, decoded from JSON. Raises Closed on a close frame.

        With `idle_ok`, returns None when only a ping or pong was waiting (the server pings every
        30 seconds), instead of waiting for the next frame."""
        message = b""
        while True:
            first, second = self._read(2)
            opcode = first & 0x0F
            length = second & 0x7F
            if length == 126:
                length = struct.unpack("!H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", self._read(8))[0]
            payload = self._read(length)
            if opcode == 0x8:  # close
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                self.close_code = code
                try:
                    self._send_frame(0x8, payload[:2])
                except OSError:
                    pass
                raise Closed(code, payload[2:].decode(errors="replace"))
            if opcode in (0x9, 0xA):  # ping, pong
                if opcode == 0x9:
                    self._send_frame(0xA, payload)
                if idle_ok and not message and not self.pending():
                    return None
                continue
            message += payload
            if first & 0x80:
                return json.loads(message.decode())

    def receive_until(self, frame_type):
        """Frames up to and including the first of `frame_type`."""
        frames = []
        while True:
            frame = self.receive()
            frames.append(frame)
            if frame.get("type") == frame_type:
                return frames

    def pending(self, timeout=0.0):
        """Whether bytes are waiting to be read."""
        return bool(self.buffer) or bool(select.select([self.sock], [], [], timeout)[0])

    def close(self):
        try:
            self._send_frame(0x8, struct.pack("!H", 1000))
            while True:
                self.receive()
        except (Closed, OSError):
            pass
        self.sock.close()


def http(method, url, body=None, headers=None):
    """(status, decoded JSON body) of one HTTP request."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def start_server(binary, settings, environment=None):
    """Starts `binary serve` on a free port with `settings` (a configuration without "server"
    and "storage", which this fills in) in a new temporary directory. Returns the process, its
    port and the directory; the caller kills the process and removes the directory."""
    import re
    import subprocess
    import tempfile
    import time

    data = tempfile.mkdtemp(prefix="rooms-check-")
    config = os.path.join(data, "rooms.json")
    with open(config, "w") as file:
        json.dump({"server": {"host": "127.0.0.1", "port": 0},
                   "storage": {"directory": os.path.join(data, "rooms-data")}, **settings}, file)
    log = os.path.join(data, "server.log")
    with open(log, "wb") as output:
        server = subprocess.Popen([os.path.abspath(binary), "serve", "--config", config], stdout=output,
                                  stderr=subprocess.STDOUT, env=environment)
    deadline = time.time() + 60
    while True:
        if time.time() > deadline or server.poll() is not None:
            server.kill()
            raise RuntimeError("the server did not start; see " + log)
        with open(log, "rb") as text:
            found = re.findall(rb"listening on http://127\.0\.0\.1:(\d+)", text.read())
        if found:
            return server, int(found[-1]), data
        time.sleep(0.05)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    try:
        room = RoomSocket(sys.argv[1])
    except ConnectionRefusedError as refused:
        # The server answered the upgrade with an HTTP error: say which, without a traceback.
        sys.exit(str(refused))
    except OSError as error:
        sys.exit(f"cannot connect: {error}")
    while True:
        # Print every frame that arrived, those read together included, before waiting again:
        # otherwise they would wait in the buffer behind the next line typed.
        try:
            while room.buffer or room.sock in select.select([room.sock], [], [], 0)[0]:
                frame = room.receive(idle_ok=True)
                if frame is not None:
                    print(json.dumps(frame), flush=True)
        except Closed as closed:
            print(f"closed: {closed.code} {closed.reason}", flush=True)
            return
        readable, _, _ = select.select([room.sock, sys.stdin], [], [])
        if sys.stdin in readable:
            line = sys.stdin.readline()
            if not line:
                room.close()
                return
            text = line.rstrip("\n")
            if not text.strip():
                continue
            # A line holding a JSON object is sent as the frame itself; any other line is a chat message.
            try:
                frame = json.loads(text) if text.lstrip().startswith("{") else None
            except ValueError:
                frame = None
            room.send(frame if isinstance(frame, dict) else {"type": "send", "text": text})


if __name__ == "__main__":
    main()
