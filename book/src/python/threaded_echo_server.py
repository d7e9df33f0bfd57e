# Exercise 03 in Python: an echo server that serves every client at once, a thread each.
# Run it: python3 threaded_echo_server.py 65434    (the port; 0 picks a free one)
import socket
import sys
import threading
import time


def echo(conn, addr):
    # One client's whole life: every byte back, until it closes its side.
    with conn:
        try:
            while True:
                data = conn.recv(65536)
                if not data:  # the client closed (or half-closed) its side: we are done
                    break
                conn.sendall(data)
        except OSError as error:  # a reset, say: it ends this client, never the server
            print(f'{addr}: {error}', file=sys.stderr)


def main():
    words = sys.argv[1:]
    if len(words) > 1 or (words and not (words[0].isascii() and words[0].isdigit()
                                         and int(words[0]) <= 65535)):
        sys.exit(f'usage: python3 {sys.argv[0]} [PORT]    (0 to 65535; 0 picks a free one)')
    port = int(words[0]) if words else 65434
    server_socket = socket.create_server(('127.0.0.1', port))
    host, port = server_socket.getsockname()
    print(f'listening on {host}:{port}', flush=True)
    while True:
        try:
            conn, addr = server_socket.accept()
        except OSError as error:
            # A client that reset before it was accepted (macOS reports it here), or no file
            # descriptor left: log it, pause a moment so a lasting failure does not spin, go on.
            print(f'accept failed: {error}', file=sys.stderr)
            time.sleep(0.1)
            continue
        threading.Thread(target=echo, args=(conn, addr), daemon=True).start()


main()
