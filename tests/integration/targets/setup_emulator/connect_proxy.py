# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright (c) 2026, vbem.enterprise_manager contributors
"""A minimal HTTP CONNECT proxy on loopback, for proving HTTPS_PROXY is honoured.

Usage: python connect_proxy.py LOG_FILE
Prints its port on stdout, then tunnels CONNECT requests and appends one
line per tunnel (``CONNECT host:port``) to LOG_FILE, until terminated.
"""

import select
import socket
import socketserver
import sys
import threading

LOG_LOCK = threading.Lock()


class Tunnel(socketserver.StreamRequestHandler):
    """Answer one CONNECT and relay bytes both ways until either side closes."""

    def handle(self):
        request = self.rfile.readline(65537).decode('latin-1').split()
        while self.rfile.readline(65537) not in (b'\r\n', b'\n', b''):
            pass
        if len(request) != 3 or request[0] != 'CONNECT':
            self.wfile.write(b'HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n')
            return
        host, _sep, port = request[1].rpartition(':')
        try:
            upstream = socket.create_connection((host.strip('[]'), int(port)), timeout=10)
        except (OSError, ValueError):
            self.wfile.write(b'HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n')
            return
        with LOG_LOCK, open(self.server.log_file, 'a', encoding='utf-8') as log:
            log.write('CONNECT %s\n' % request[1])
        self.wfile.write(b'HTTP/1.1 200 Connection established\r\n\r\n')
        self.wfile.flush()
        sockets = [self.connection, upstream]
        try:
            while True:
                readable = select.select(sockets, [], [], 30)[0]
                if not readable:
                    return
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    (upstream if source is self.connection else self.connection).sendall(data)
        finally:
            upstream.close()


class Proxy(socketserver.ThreadingTCPServer):
    """The proxy server; remembers where to log tunnels."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, log_file):
        super().__init__(('127.0.0.1', 0), Tunnel)
        self.log_file = log_file


def main():
    """Serve until terminated."""
    server = Proxy(sys.argv[1])
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == '__main__':
    main()
