"""What a fixed seat count costs under slow clients (chapter 12). Run by bench/http:

    python3 bench/slowloris.py target/release/12_http lessons/12_http_site

For each number of slow clients, starts lesson 12 afresh (64 seats, 10 s header timeout),
opens that many connections that send a request's head one line every 200 ms and never end
it (each reopened when the server closes it), waits a second, then sends 50 normal requests
one after another and counts how they fared.
"""

import socket
import statistics
import subprocess
import sys
import threading
import time

SLOW_COUNTS = [0, 64, 128, 256, 512, 1024]
PROBES = 50
SEATS = 64


def start_server(binary, site):
    try:
        server = subprocess.Popen(
            [binary, "127.0.0.1:0", site, "10", str(SEATS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    except OSError as error:
        sys.exit(f"cannot start {binary}: {error.strerror}: build it first "
                 "(cargo build --release --bin 12_http)")
    first = server.stdout.readline()
    if not first.startswith("listening on "):
        server.wait()
        said = server.stderr.read().strip() or repr(first)
        sys.exit(f"lesson 12 did not start:\n{said}")
    # Its stderr is not read from here on: keep it from filling (a slow client's log lines).
    threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()
    host, port = first.split()[-1].rsplit(":", 1)
    # Keep reading its log, so that its pipe never fills and blocks it.
    threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()
    return server, (host, int(port))


def open_slow(address):
    try:
        sock = socket.create_connection(address, timeout=1)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n")
        sock.setblocking(False)
        return sock
    except OSError:
        return None


def slow_clients(address, count, stop):
    clients = [open_slow(address) for _ in range(count)]
    while not stop.is_set():
        for index, sock in enumerate(clients):
            alive = sock is not None
            if alive:
                try:
                    if sock.recv(4096) == b"":
                        alive = False  # closed by the server
                    else:
                        alive = False  # an answer (503 or 408): it will close
                except BlockingIOError:
                    pass
                except OSError:
                    alive = False
            if alive:
                try:
                    sock.send(b"X-Slow: 1\r\n")
                except OSError:
                    alive = False
            if not alive:
                if sock is not None:
                    sock.close()
                clients[index] = open_slow(address)
        time.sleep(0.2)
    for sock in clients:
        if sock is not None:
            sock.close()


def probe(address):
    started = time.monotonic()
    try:
        with socket.create_connection(address, timeout=5) as sock:
            sock.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
        status = answer[9:12].decode() or "closed"
    except OSError as error:
        status = type(error).__name__
    return status, time.monotonic() - started


def main():
    usage = ("usage: python3 bench/slowloris.py PATH_TO_12_HTTP SITE_FOLDER\n"
             "  e.g. python3 bench/slowloris.py target/release/12_http lessons/12_http_site")
    if sys.argv[1:] in (["--help"], ["-h"]):
        print(usage)
        return
    if len(sys.argv) != 3:
        sys.exit(usage)
    binary, site = sys.argv[1], sys.argv[2]
    print(f"# bench/slowloris.py: lesson 12 with {SEATS} seats; slow clients send a head line "
          f"every 200 ms and reconnect when closed; then {PROBES} normal requests, one at a time")
    print(f"{'slow clients':>12}  {'served (200)':>12}  {'503':>5}  {'other':>5}  "
          f"{'median ms':>9}  {'slowest ms':>10}")
    for count in SLOW_COUNTS:
        server, address = start_server(binary, site)
        stop = threading.Event()
        attack = threading.Thread(target=slow_clients, args=(address, count, stop))
        attack.start()
        time.sleep(1.0)  # the slow clients take their seats
        results = [probe(address) for _ in range(PROBES)]
        stop.set()
        attack.join()
        server.kill()
        server.wait()
        statuses = [status for status, _ in results]
        times = [seconds * 1000 for _, seconds in results]
        served = statuses.count("200")
        busy = statuses.count("503")
        print(f"{count:>12}  {served:>12}  {busy:>5}  {PROBES - served - busy:>5}  "
              f"{statistics.median(times):>9.1f}  {max(times):>10.1f}")


if __name__ == "__main__":
    main()
