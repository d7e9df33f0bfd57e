# The seed tutorial's echo client, unchanged: it works against lesson 02's server.
import socket

client_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
client_socket.connect(('localhost', 65433))
client_socket.sendall(b'Hello, Echo Server!')
data = client_socket.recv(1024)
print('Received', repr(data))
client_socket.close()
