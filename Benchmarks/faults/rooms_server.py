"""Starts and stops one `rooms serve` for the fault programs in this folder."""

import json
import os
import socket
import subprocess
import time


class Server:
    """One `rooms serve` on a fixed port and data directory."""

    def __init__(self, binary, directory, port, kinds, server=None, sections=None):
        """`sections`: more top-level configuration sections (such as `push`), as they are."""
        self.binary, self.directory, self.port = binary, directory, port
        self.config = os.path.join(directory, "rooms.json")
        with open(self.config, "w") as f:
            json.dump({
                "server": {**(server or {}), "host": "127.0.0.1", "port": port, "shutdownTimeoutSeconds": 10},
                "storage": {"directory": os.path.join(directory, "data")},
                "log": {"level": "warning"},
                "kinds": kinds,
                **(sections or {}),
            }, f)
        self.process = None
        self.log = open(os.path.join(directory, "server.log"), "ab")

    def start(self):
        self.process = subprocess.Popen(
            [self.binary, "serve", "--config", self.config], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server exited with {self.process.returncode} at start; see {self.log.name}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("the server did not listen within 60 s")

    def rss_kib(self):
        """The server's resident memory in KiB (Linux), or 0."""
        try:
            with open(f"/proc/{self.process.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def alive(self):
        return self.process.poll() is None

    def stop(self, sig):
        self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return "hung"
        return code


def free_port():
    """A loopback port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
