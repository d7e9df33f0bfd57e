# Exercise 01 in Python: greet each client by its own address, then close.
# Run it: python3 greeting_server.py 65432    (the port; 0 picks a free one)
import socket
import sys
import time


def main():
    words = sys.argv[1:]
    if len(words) > 1 or (words and not (words[0].isascii() and words[0].isdigit()
                                         and int(words[0]) <= 65535)):
        sys.exit(f'usage: python3 {sys.argv[0]} [PORT]    (0 to 65535; 0 picks a free one)')
    port = int(words[0]) if words else 65432
    server_socket = socket.create_server(('127.0.0.1', port))
    host, port = server_socket.getsockname()
    print(f'listening on {host}:{port}', flush=True)
    while True:
        try:
            conn, (client_host, client_port) = server_socket.accept()
        except OSError as error:  # a client that reset first (macOS), or no descriptor left
            print(f'accept failed: {error}', file=sys.stderr)
            time.sleep(0.1)  # a lasting failure must not spin
            continue
        with conn:  # closes the connection at the end of the block
            try:
                conn.sendall(f'Hello, {client_host}:{client_port}!\n'.encode())
            except OSError as error:  # a client that left at once ends only its greeting
                print(f'could not greet a client: {error}', file=sys.stderr)


main()
