# A short session with lesson 14's server, using the FTP client in Python's standard library.
# Run it with the server's address: python3 ftp_client.py 127.0.0.1 65445
import ftplib
import sys

if len(sys.argv) != 3 or not (sys.argv[2].isascii() and sys.argv[2].isdigit()):
    sys.exit('usage: python3 ftp_client.py HOST PORT    (as in: 127.0.0.1 65445)')
host, port = sys.argv[1], int(sys.argv[2])
ftp = ftplib.FTP()
ftp.connect(host, port, timeout=10)
print(ftp.login())  # anonymous, as FTP clients do when given no user
print(ftp.pwd())
print(ftp.nlst())
lines = []
ftp.retrlines("RETR hello.txt", lines.append)
print(lines)
print(ftp.cwd("docs"))
print(ftp.size("replies.txt"))
try:
    ftp.retrlines("RETR ../../etc/passwd", print)
except ftplib.error_perm as refusal:
    print("refused:", refusal)
print(ftp.quit())
