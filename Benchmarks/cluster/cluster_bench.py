#!/usr/bin/env python3
"""Cluster benchmarks (issue 17), measured with the independent load generator wsload.

Starts a PostgreSQL of its own (Debian's `postgresql` package, as `.ci/run` installs it) and
`rooms serve` nodes sharing one data directory, then measures:

  forward   the cost of a forwarded connection: the same load on rooms owned by node c, once
            with the clients connected to c (direct) and once to node a (forwarded over a's
            link to c); runs alternate, medians and the forwarded/direct ratio are reported.
  nodes     the throughput of 1, 2 and 3 nodes: each node owns its own rooms and their clients
            connect to it, one wsload per node at once, closed loop (each sender keeps --window
            messages in flight); the sums are reported. On a 2-core machine every node, PostgreSQL and wsload
            share the same two cores: more nodes add no CPU, only the cost of running them.

    python3 Benchmarks/cluster/cluster_bench.py --binary .build/release/rooms --wsload /tmp/wsload

Every run uses fresh room names (the server takes a message id once per room).
"""
import argparse
import glob
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(argv):
    """argv run as the postgres user when this is root (initdb refuses root)."""
    if os.geteuid() == 0:
        return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"] + argv
    return argv


class Postgres:
    def __init__(self, scratch):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not bins:
            sys.exit("PostgreSQL is not installed (apt-get install postgresql)")
        self.bin = bins[-1]
        self.dir = os.path.join(scratch, "pg")
        os.makedirs(self.dir)
        if os.geteuid() == 0:
            shutil.chown(scratch, "postgres")
            shutil.chown(self.dir, "postgres")
        subprocess.run(as_postgres([f"{self.bin}/initdb", "-D", self.dir, "--auth=trust", "-U", "postgres"]),
                       check=True, stdout=subprocess.DEVNULL)
        self.port = free_port()
        self.process = subprocess.Popen(
            as_postgres([f"{self.bin}/postgres", "-D", self.dir, "-p", str(self.port), "-k", self.dir,
                         "-c", "listen_addresses=127.0.0.1"]),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                time.sleep(0.5)
                return
            except OSError:
                time.sleep(0.2)
        sys.exit("PostgreSQL did not start")

    def create_database(self, name):
        subprocess.run(as_postgres([f"{self.bin}/psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                                    "-c", f"CREATE DATABASE {name}"]), check=True, stdout=subprocess.DEVNULL)
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}?sslmode=disable"

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


class Node:
    def __init__(self, binary, scratch, storage, node_id, postgres_url):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        directory = os.path.join(scratch, node_id)
        os.makedirs(directory)
        config = {
            "server": {"host": "127.0.0.1", "port": self.port},
            "storage": {"directory": storage},
            "log": {"level": "warning"},
            "kinds": {"chat": {"class": "chat"}},
            "cluster": {"postgresURLEnv": "ROOMS_BENCH_POSTGRES_URL", "nodeID": node_id,
                        "advertise": self.url, "leaseSeconds": 10},
        }
        path = os.path.join(directory, "rooms.json")
        with open(path, "w") as f:
            json.dump(config, f)
        env = dict(os.environ, ROOMS_BENCH_POSTGRES_URL=postgres_url)
        self.log = open(os.path.join(directory, "log"), "w")
        self.process = subprocess.Popen([binary, "serve", "--config", path], env=env, stdout=self.log, stderr=self.log)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/healthz", timeout=1).read()
                return
            except OSError:
                time.sleep(0.2)
        sys.exit(f"node {node_id} did not start; see {directory}/log")

    def get(self, path):
        return urllib.request.urlopen(f"{self.url}{path}", timeout=30).read()

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)


def place(node, rooms):
    """Makes `node` own each room (its first activation anywhere takes it)."""
    for room in rooms:
        node.get(f"/rooms/chat/{room}/messages?limit=1")


def wsload(args, node, prefix, rooms, json_path, rate, pids):
    command = [
        args.wsload, "--mode", "json", "--quiet",
        "--url", f"ws://127.0.0.1:{node.port}/rooms/chat/{prefix}-{{r}}/ws?user=u{{c}}",
        "--rooms", str(rooms), "--clients", str(args.clients), "--senders", str(args.senders),
        "--rate", str(rate), "--window", str(args.window), "--size", str(args.size),
        "--duration", str(args.duration), "--warmup", "2", "--json", json_path,
        "--server-pid", ",".join(str(p) for p in pids),
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def result(path):
    with open(path) as f:
        data = json.load(f)
    return {
        "sent_per_s": data["sent_per_s"] or 0,
        "deliveries_per_s": data["deliveries_per_s"] or 0,
        "acks_per_s": data["acks_per_s"] or 0,
        "delivery_p50_ms": (data["latency_us"] or {}).get("p50", 0) / 1000,
        "delivery_p99_ms": (data["latency_us"] or {}).get("p99", 0) / 1000,
        "ack_p50_ms": (data.get("ack_latency_us") or {}).get("p50", 0) / 1000,
        "ack_p99_ms": (data.get("ack_latency_us") or {}).get("p99", 0) / 1000,
        "delivery_ratio": data.get("delivery_ratio"),
        "errors": data.get("errors"),
        "server_cpu_percent": data.get("server_cpu_percent") or 0,
    }


def run_load(args, scratch, placements, rate, pids):
    """placements: [(node clients connect to, node that owns the rooms)]; one wsload each, at once;
    `pids`: the server processes whose CPU is sampled (every node of the scenario)."""
    processes = []
    for index, (connect, owner) in enumerate(placements):
        prefix = f"b{uuid.uuid4().hex[:8]}"
        place(owner, [f"{prefix}-{r}" for r in range(args.rooms)])
        path = os.path.join(scratch, f"{prefix}.json")
        processes.append((wsload(args, connect, prefix, args.rooms, path, rate, pids), path))
    results = []
    for process, path in processes:
        _, err = process.communicate(timeout=args.duration + 120)
        if process.returncode != 0:
            sys.exit(f"wsload failed ({process.returncode}): {err.decode()[-2000:]}")
        results.append(result(path))
    return results


def rooms_bench(args, scratch, connect, owner):
    """`rooms bench fanout` (the project's own harness) against `connect`, its room placed on `owner`."""
    path = os.path.join(scratch, f"rb-{uuid.uuid4().hex[:8]}.json")
    command = [args.binary, "bench", "fanout", "--url", connect.url, "--place-via", owner.url,
               "--clients", str(args.rooms * args.clients), "--rate", str(args.rate), "--size", str(args.size),
               "--duration", str(args.duration), "--json", path]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=args.duration + 120)
    with open(path) as f:
        run = json.load(f)["runs"][0]
    return {
        "sent_per_s": run["messagesPerSecond"],
        "deliveries_per_s": run["deliveriesPerSecond"],
        "delivery_p50_ms": run["latencyMicros"]["p50"] / 1000,
        "delivery_p99_ms": run["latencyMicros"]["p99"] / 1000,
        "errors": run["errors"],
    }


def median(values):
    return statistics.median(values) if values else 0


def alternate(args, a, c, measure, label):
    """Runs measure(connect) args.runs times through c (direct) and a (forwarded to c), alternating
    which goes first."""
    results = {"direct": [], "forwarded": []}
    try:
        for run in range(args.runs):
            order = [("direct", c), ("forwarded", a)]
            if run % 2:
                order.reverse()
            for name, connect in order:
                results[name].append(measure(connect))
                print(f"  {label} run {run + 1} {name}: {results[name][-1]}", file=sys.stderr)
    finally:
        a.stop()
        c.stop()
    return results


def forwarded_over_direct(results, keys):
    """Per key, the forwarded/direct ratio of each pair of runs, and their median."""
    ratios = {}
    for key in keys:
        per_run = [f[key] / d[key] for f, d in zip(results["forwarded"], results["direct"]) if d[key]]
        ratios[key] = {"median": median(per_run), "runs": per_run}
    return ratios


def forward(args, scratch, postgres):
    storage = os.path.join(scratch, "forward-storage")
    url = postgres.create_database("forward")
    a = Node(args.binary, scratch, storage, "fa", url)
    c = Node(args.binary, scratch, storage, "fc", url)
    pids = [a.process.pid, c.process.pid]
    runs = alternate(args, a, c, lambda connect: run_load(args, scratch, [(connect, c)], args.rate, pids)[0], "wsload")
    summary = {}
    for name, results in runs.items():
        summary[name] = {key: median([r[key] for r in results]) for key in
                         ["sent_per_s", "deliveries_per_s", "delivery_p50_ms", "delivery_p99_ms", "ack_p50_ms",
                          "ack_p99_ms", "server_cpu_percent"]}
        summary[name]["delivery_ratio_min"] = min(r["delivery_ratio"] or 0 for r in results)
        summary[name]["errors_max"] = max(r["errors"] or 0 for r in results)
    report = {
        "medians": summary,
        "forwarded_over_direct": forwarded_over_direct(
            runs, ["delivery_p50_ms", "delivery_p99_ms", "ack_p50_ms", "ack_p99_ms", "server_cpu_percent"]),
    }
    # The same comparison with rooms bench (one room, --rooms x --clients listeners, one sender).
    if args.rooms_bench:
        a = Node(args.binary, scratch, storage, "ra", url)
        c = Node(args.binary, scratch, storage, "rc", url)
        harness = alternate(args, a, c, lambda connect: rooms_bench(args, scratch, connect, c), "rooms bench")
        report["rooms_bench"] = {
            name: {key: median([r[key] for r in results]) for key in results[0]} for name, results in harness.items()}
        report["rooms_bench"]["forwarded_over_direct"] = forwarded_over_direct(harness, ["delivery_p50_ms", "delivery_p99_ms"])
    return report


def nodes(args, scratch, postgres):
    figures = {}
    for count in (1, 2, 3):
        storage = os.path.join(scratch, f"nodes{count}-storage")
        url = postgres.create_database(f"nodes{count}")
        started = [Node(args.binary, scratch, storage, f"n{count}{i}", url) for i in range(count)]
        totals = []
        try:
            for run in range(args.runs):
                results = run_load(args, scratch, [(node, node) for node in started], 0, [n.process.pid for n in started])
                total = {
                    "sent_per_s": sum(r["sent_per_s"] for r in results),
                    "deliveries_per_s": sum(r["deliveries_per_s"] for r in results),
                    "delivery_p99_ms": max(r["delivery_p99_ms"] for r in results),
                    "delivery_ratio_min": min(r["delivery_ratio"] or 0 for r in results),
                    # Every wsload samples every node: the same total, measured N times.
                    "server_cpu_percent": results[0]["server_cpu_percent"],
                }
                totals.append(total)
                print(f"  {count} node(s), run {run + 1}: {total}", file=sys.stderr)
        finally:
            for node in started:
                node.stop()
        figures[f"{count}"] = {key: median([t[key] for t in totals]) for key in totals[0]}
    base = figures["1"]["sent_per_s"] or 1
    for count, figure in figures.items():
        figure["throughput_over_one_node"] = figure["sent_per_s"] / base
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build/release/rooms")
    parser.add_argument("--wsload", default="/tmp/wsload")
    parser.add_argument("--scenario", choices=["forward", "nodes", "all"], default="all")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rooms", type=int, default=20, help="rooms per wsload")
    parser.add_argument("--clients", type=int, default=10, help="clients per room")
    parser.add_argument("--senders", type=int, default=2, help="senders per room")
    parser.add_argument("--rate", type=int, default=2000, help="messages/s of the forward scenario (nodes runs closed loop)")
    parser.add_argument("--window", type=int, default=4, help="messages in flight per sender")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--no-rooms-bench", dest="rooms_bench", action="store_false",
                        help="forward: skip the rooms bench pass (wsload only)")
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="rooms-cluster-bench-")
    if os.geteuid() == 0:
        os.chmod(scratch, 0o755)
    postgres = Postgres(scratch)
    report = {"arguments": vars(args)}
    try:
        if args.scenario in ("forward", "all"):
            report["forward"] = forward(args, scratch, postgres)
        if args.scenario in ("nodes", "all"):
            report["nodes"] = nodes(args, scratch, postgres)
    finally:
        postgres.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
