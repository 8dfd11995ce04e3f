#!/usr/bin/env python3
"""Writes the seed inputs of every fuzz target into Fuzz/Corpus/<target>/seed-*.

The seeds are real examples of what each parser reads (frames from docs/PROTOCOL.md, STOMP
frames, an event stream, rooms.example.json, tokens signed with the fuzzing secret); the
fuzzer mutates them. Run it again after changing a seed; `Fuzz/run --merge` keeps the corpus
small. Standard library only.
"""
import base64, hashlib, hmac, json, pathlib

root = pathlib.Path(__file__).resolve().parent
repo = root.parent

# TokenFuzzing.secret / .now (2026-01-01T00:00:00Z)
SECRET = b"fuzzing-secret-fuzzing-secret-fuzzing-secret-0123"
NOW = 1_767_225_600


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(claims, header=None) -> str:
    header = header or {"alg": "HS256", "typ": "JWT"}
    signing = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    signature = hmac.new(SECRET, signing.encode(), hashlib.sha256).digest()
    return signing + "." + b64(signature)


good = {"sub": "ann", "exp": NOW + 3600, "iss": "fuzz", "aud": "rooms", "rooms": ["chat/lobby", "team/*", "doc/a*"]}

seeds = {
    "stomp": [
        b"\x03CONNECT\naccept-version:1.2\nhost:localhost\nheart-beat:10000,10000\n\n\x00",
        b"\x03SUBSCRIBE\nid:sub-0\ndestination:/topic/rooms/chat/lobby\nreceipt:r1\n\n\x00",
        b'\x03SEND\ndestination:/topic/rooms/chat/lobby\ncontent-type:application/json\nreceipt:7\n\n{"type":"send","text":"hi"}\x00',
        b'\x03SEND\ndestination:/topic/rooms/chat/lobby\ncontent-length:13\n\n{"text":"\x00"}\x00',
        b"\x03SEND\ndestination:/topic/rooms/chat/a\\cb\\\\c\\n\\r\n\nbody\x00\n\n\r\n",
        b"\x02SEND\r\ndestination:/topic/rooms/chat/x\r\nreceipt:a\\cb\r\n\r\nx\x00",
        b"\x01SEND\ndestination:/topic/rooms/chat/x:y\n\nx\x00\nUNSUBSCRIBE\nid:sub-0\n\n\x00",
        b"\x00STOMP\naccept-version:1.0,1.1,1.2\nhost:h\n\n\x00",
        b"\x03ACK\nid:1\n\n\x00DISCONNECT\nreceipt:bye\n\n\x00",
        b"\x03\n\n\r\n",
    ],
    "sse": [
        b'data: {"id":"c1","choices":[{"delta":{"content":"Hel"}}]}\n\ndata: {"choices":[{"delta":{"content":"lo"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n',
        b": keep-alive\r\n\r\nevent: message\r\nid: 7\r\ndata: a\r\ndata: b\r\n\r\n",
        b"\x03data:x\rdata:y\r\r\nretry: 100\nfield\n\n",
        b"event: close\ndata: {\"type\": \"close\", \"code\": 4000}\n\n\n",
    ],
    "configuration": [
        (repo / "rooms.example.json").read_bytes(),
        b'{"kinds": {"chat": {"class": "chat"}}}',
        b'{"server": {"host": "0.0.0.0", "port": 8080, "allowedOrigins": ["https://a.example"]}, "kinds": {"c": {"class": "counter"}, "g": {"class": "game", "turnTimeoutSeconds": 30}, "d": {"class": "doc", "maxDocumentBytes": 1000, "snapshotEvery": 10}, "r": {"class": "relay"}}}',
        b'{"kinds": {"team": {"class": "chat", "access": "members", "ttlSeconds": 3600, "maxTextBytes": 100}, "inbox": {"class": "inbox"}}, "auth": {"mode": "jwt", "secretEnv": "ROOMS_JWT_SECRET", "leewaySeconds": 5}, "log": {"level": "debug"}}',
        b'{"kinds": {"ai": {"class": "ai", "provider": {"kind": "openai", "baseURL": "http://127.0.0.1:1/v1", "model": "m"}, "contextMessages": 10}}, "runtime": {"idleTimeoutSeconds": 1.5}, "push": {"url": "http://127.0.0.1:9/push"}}',
    ],
    "fields": [
        b'{"type":"message","seq":42,"id":"c-1","user":"ann","text":"hello","ts":1763740800000}',
        b'{"type": "welcome", "kind": "chat", "room": "lobby", "user": "ann", "lastSeq": 41, "connection": 17}',
        b'{"nested":{"type":"x","seq":1},"seq":-7,"list":[1,"]",{"a":[]}],"type":"ai.delta"}',
        b'{"type":"ack","id":"c-1","seq":42,"duplicate":true}',
    ],
    "token": [
        token(good).encode(),
        token({"sub": "bob", "exp": NOW + 60, "nbf": NOW - 60, "iss": "fuzz", "aud": ["x", "rooms"], "admin": True}).encode(),
        token(good, {"alg": "none"}).encode(),
        token(good, {"alg": "RS256", "kid": "k1"}).encode(),
        json.dumps({"type": "auth", "token": token(good), "id": "r-1"}).encode(),
        json.dumps(good).encode(),
        json.dumps({"sub": "ann", "exp": NOW - 10, "nbf": NOW + 10, "rooms": ["chat/*", "bad"], "admin": "yes"}).encode(),
    ],
    "path": [
        b"/rooms/chat/lobby/ws?user=ann&token=x",
        b"/rooms/chat/a%20b%2Fc/messages?after=3&wait=10&limit=50",
        b"/rooms/doc/%F0%9F%98%80/ws?user=%E2%9C%93",
        b"/topic/rooms/chat/lobby/with/slashes",
        b"team/core*",
        b"/rooms?kind=chat&prefix=a&cursor=x&limit=10",
        b"/inbox/ws?user=ann",
    ],
    "frames": [
        b'{"type": "send", "text": "hello", "id": "c-1"}',
        b'{"type": "send", "text": "later", "id": "c-3", "deliverAt": 1763740900000}',
        b'{"type": "read", "seq": 42, "id": "r"}',
        b'{"type": "typing"}',
        b'{"type": "increment", "by": -5}',
        b'{"type": "reset", "afterSeconds": 1.5}',
        b'{"type": "move", "cell": 4}',
        b'{"type": "cursor", "anchor": 3, "head": 8, "version": 9}',
        b'{"type": "ai.prompt", "id": "q-1", "text": "hi"}',
        b'{"type": "ai.cancel", "stream": "s-1"}',
        b'{"room": {"kind": "team", "id": "core", "lastSeq": 43, "readSeq": 40, "unread": 3}, "removed": false}',
        b'{"user": "ann", "text": "posted", "id": "p-1"}',
        b'{"type": "auth", "token": "a.b.c", "id": 7}',
    ],
    "document": [
        b'{"type": "op", "id": "c1-17", "base": 7, "ops": [{"retain": 5}, {"insert": "big "}, {"delete": 3}]}',
        b'{"type": "op", "id": "a", "base": 0, "ops": [{"insert": "\\ud83d\\ude00"}, {"retain": 15}, {"delete": 2}]}',
        b'{"type": "op", "id": "b", "base": 0, "ops": [{"delete": 21}, {"insert": "x"}]}',
        b'{"type": "op", "id": "c", "base": 0, "ops": [{"retain": 16}, {"delete": 1}]}',
    ],
}

for target, inputs in seeds.items():
    folder = root / "Corpus" / target
    folder.mkdir(parents=True, exist_ok=True)
    for index, data in enumerate(inputs):
        (folder / f"seed-{index:02d}").write_bytes(data)
    print(f"{target}: {len(inputs)} seeds")
