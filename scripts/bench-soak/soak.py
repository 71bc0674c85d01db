#!/usr/bin/env python3
"""Soak for scripts/bench-soak.sh: well-behaved reads and writes beside hostile clients.

    soak.py BASE REGISTER KEYS TOKEN PARTNER_PASSWORD SERVER_PID DURATION_S good|hostile

The two halves run as two processes, so that the hostile threads never delay the measured
client's own Python (one interpreter lock each).

Good traffic (measured): READERS threads each GET /registers or a random record in turn,
WRITERS threads each POST one new record with the writer token, every thread pacing itself
to RATE requests a second. Each request is one sample: available when it answers 2xx within
1 s.

Hostile traffic, for the whole run, HOSTILE connections or threads of each kind (reopened when
the server closes them):
  readers    GET download-rsf and never read
  trickle    POST records with the token, Content-Length 1 MB, one byte a second
  idle       half a request head, never finished
  guess      wrong passwords for the admin account "bench" (login and HTTP Basic), as fast as
             they are answered
  documents  POST /v1/plans/invoke with a partner's token and a 1 MB, 100,000-attribute document
and 8 threads probing GET /v1/plans/<random uuid> with the partner's token.

Prints progress with the server's RSS every 10 s, one line per kind of good request, and one
`SOAK ...` line: availability, p99, max, RSS at 10 s, half-way, at the end and its maximum.
"""

import base64
import http.client
import json
import random
import socket
import sys
import threading
import time
import uuid

BASE, REGISTER, KEYS, TOKEN, PARTNER_PASSWORD, SERVER_PID, DURATION, MODE = sys.argv[1:9]
KEYS, DURATION = int(KEYS), float(DURATION)
HOST, PORT = BASE.split("//")[1].split(":")
PORT = int(PORT)
READERS, WRITERS, RATE = 4, 2, 50.0
HOSTILE = 64

stop = threading.Event()
samples = {"read": [], "write": []}
samples_lock = threading.Lock()


def rss_kib():
    try:
        with open(f"/proc/{SERVER_PID}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return 0
    return 0


def timed(kind, holder, method, path, body=None, headers=None):
    """One good request on the connection in `holder`; records (latency_s, available)."""
    started = time.monotonic()
    ok = False
    try:
        if holder[0] is None:
            holder[0] = http.client.HTTPConnection(HOST, PORT, timeout=10)
        holder[0].request(method, path, body=body, headers=headers or {})
        response = holder[0].getresponse()
        response.read()
        ok = 200 <= response.status < 300
        if (response.getheader("connection") or "").lower() == "close":
            holder[0].close()
            holder[0] = None
    except (OSError, http.client.HTTPException):
        if holder[0] is not None:
            holder[0].close()
        holder[0] = None
    latency = time.monotonic() - started
    with samples_lock:
        samples[kind].append((latency, ok and latency <= 1.0))


def pace(started, n):
    delay = started + n / RATE - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def reader(number):
    holder, n, started = [None], 0, time.monotonic()
    rng = random.Random(number)
    while not stop.is_set():
        n += 1
        if n % 2:
            path = "/registers"
        else:
            path = f"/registers/{REGISTER}/records/K{rng.randrange(KEYS):07d}"
        timed("read", holder, "GET", path)
        pace(started, n)


def writer(number):
    holder, n, started = [None], 0, time.monotonic()
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    while not stop.is_set():
        n += 1
        body = json.dumps({REGISTER: f"S{number}-{n}", "name": f"Soak {n}", "size": str(n),
                           "start-date": "2024-01-01", "labels": ["soak"]})
        timed("write", holder, "POST", f"/registers/{REGISTER}/records", body, headers)
        pace(started, n)


def raw(head, body=b"", timeout=30):
    sock = socket.socket()
    sock.settimeout(timeout)
    sock.connect((HOST, PORT))
    sock.sendall(head.encode() + body)
    return sock


def drain(sock):
    """Reads until the server closes the connection (or the timeout)."""
    try:
        while sock.recv(65536):
            pass
    except OSError:
        pass
    finally:
        sock.close()


def hostile_reader():
    while not stop.is_set():
        try:
            sock = socket.socket()
            # A small window: the server's sends stall as soon as possible.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect((HOST, PORT))
            sock.sendall(f"GET /registers/{REGISTER}/download-rsf HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            # Never read; hold it until the server gives up (or the run ends).
            while not stop.is_set():
                time.sleep(1)
                try:
                    if sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                        break
                except BlockingIOError:
                    pass
            sock.close()
        except OSError:
            time.sleep(0.5)


def hostile_trickle():
    head = (f"POST /registers/{REGISTER}/records HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
            "Content-Length: 1000000\r\n\r\n")
    while not stop.is_set():
        try:
            sock = raw(head, timeout=1)
            while not stop.is_set():
                sock.sendall(b" ")
                try:
                    if sock.recv(1, socket.MSG_PEEK):
                        break
                except socket.timeout:
                    pass
            sock.close()
        except OSError:
            time.sleep(0.5)


def hostile_idle():
    while not stop.is_set():
        try:
            drain(raw("GET /registers HTTP/1.1\r\nHost: x\r\nX-Slow: ", timeout=DURATION))
        except OSError:
            time.sleep(0.5)


def hostile_guess(number):
    basic = base64.b64encode(f"bench:guess{number}".encode()).decode()
    body = json.dumps({"username": "bench", "password": f"guess{number}"}).encode()
    n = 0
    while not stop.is_set():
        n += 1
        try:
            if n % 2:
                drain(raw("POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n", body))
            else:
                drain(raw(f"POST /registers/{REGISTER}/load-rsf HTTP/1.1\r\nHost: x\r\n"
                          f"Authorization: Basic {basic}\r\nContent-Length: 0\r\n"
                          "Connection: close\r\n\r\n"))
        except OSError:
            time.sleep(0.1)


def partner_token():
    # From another loopback address than the guessers, as a partner's server would be.
    conn = http.client.HTTPConnection(HOST, PORT, timeout=30, source_address=("127.0.0.2", 0))
    conn.request("POST", "/v1/login", json.dumps({"username": "partner", "password": PARTNER_PASSWORD}),
                 {"Content-Type": "application/json"})
    response = conn.getresponse()
    answer = json.loads(response.read())
    if response.status != 200:
        sys.exit(f"partner login failed: {response.status} {answer}")
    return answer["token"]


def hostile_documents(jwt, body):
    head = ("POST /v1/plans/invoke HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {jwt}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    while not stop.is_set():
        try:
            drain(raw(head, body))
        except OSError:
            time.sleep(0.1)


def hostile_probe(jwt):
    holder = [None]
    while not stop.is_set():
        try:
            if holder[0] is None:
                holder[0] = http.client.HTTPConnection(HOST, PORT, timeout=10)
            holder[0].request("GET", f"/v1/plans/{uuid.uuid4()}", headers={"Authorization": f"Bearer {jwt}"})
            holder[0].getresponse().read()
        except (OSError, http.client.HTTPException):
            holder[0] = None
            time.sleep(0.1)


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def run_hostile():
    jwt = partner_token()
    attributes = "".join(f' a{i:x}=""' for i in range(100_000))
    document = base64.b64encode(f'<?xml version="1.0"?><Plan{attributes}></Plan>'.encode()).decode()
    document_body = json.dumps({"document": document}).encode()
    threads = []
    for i in range(HOSTILE):
        threads += [threading.Thread(target=hostile_reader), threading.Thread(target=hostile_trickle),
                    threading.Thread(target=hostile_idle), threading.Thread(target=hostile_guess, args=(i,)),
                    threading.Thread(target=hostile_documents, args=(jwt, document_body))]
    threads += [threading.Thread(target=hostile_probe, args=(jwt,)) for _ in range(8)]
    for t in threads:
        t.daemon = True
        t.start()
    print(f"hostile: {len(threads)} threads running", flush=True)
    time.sleep(DURATION)
    stop.set()


def run_good():
    good = [threading.Thread(target=reader, args=(i,)) for i in range(READERS)]
    good += [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for t in good:
        t.daemon = True
        t.start()
    rss = [rss_kib()]
    started = time.monotonic()
    while time.monotonic() - started < DURATION:
        time.sleep(1)
        rss.append(rss_kib())
        if len(rss) % 10 == 1:
            with samples_lock:
                done = sum(len(v) for v in samples.values())
            print(f"t={time.monotonic() - started:5.1f}s rss={rss[-1] / 1024:.1f} MiB good requests={done}",
                  flush=True)
    stop.set()
    for t in good:
        t.join(timeout=15)
    with samples_lock:
        everything = samples["read"] + samples["write"]
        for kind, values in samples.items():
            latencies = [v[0] for v in values]
            available = sum(1 for v in values if v[1])
            print(f"{kind}: {len(values)} requests, available {100.0 * available / max(1, len(values)):.3f}%, "
                  f"p50 {1000 * percentile(latencies, 50):.1f} ms, p99 {1000 * percentile(latencies, 99):.1f} ms, "
                  f"max {1000 * max(latencies, default=0):.1f} ms")
    latencies = [v[0] for v in everything]
    available = sum(1 for v in everything if v[1])
    print(f"SOAK requests={len(everything)} availability_pct={100.0 * available / max(1, len(everything)):.3f} "
          f"p99_ms={1000 * percentile(latencies, 99):.1f} max_ms={1000 * max(latencies, default=0):.1f} "
          f"rss_10s_mib={rss[min(10, len(rss) - 1)] / 1024:.1f} rss_half_mib={rss[len(rss) // 2] / 1024:.1f} "
          f"rss_last_mib={rss[-1] / 1024:.1f} rss_max_mib={max(rss) / 1024:.1f}",
          flush=True)


if MODE == "hostile":
    run_hostile()
else:
    run_good()
