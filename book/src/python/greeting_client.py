# The seed tutorial's greeting client, unchanged: it works against lesson 01's server.
import socket

client_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
client_socket.connect(('localhost', 65432))
data = client_socket.recv(1024)
print('Received', repr(data))
client_socket.close()
