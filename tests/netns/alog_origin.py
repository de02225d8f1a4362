#!/usr/bin/env python3
"""A tiny origin for Remora's access-log netns test (stdlib only).

Runs in the origin namespace only, on 0.0.0.0:8085. Reads one request head
and answers it, then closes:
  /charset  200, Content-Type: text/html; charset=utf-8 (a type with a
            parameter and a space, as most web servers send)
  /notype   200 without a Content-Type field
  other     404
"""
import socketserver
import sys

BODY = b"<p>hello</p>\n"


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        s.settimeout(5)
        head = b""
        try:
            while b"\r\n\r\n" not in head:
                d = s.recv(4096)
                if not d:
                    return
                head += d
        except OSError:
            return
        path = head.split(b" ", 2)[1] if head.count(b" ") >= 2 else b"/"
        if path == b"/charset":
            extra, status = b"Content-Type: text/html; charset=utf-8\r\n", b"200 OK"
        elif path == b"/notype":
            extra, status = b"", b"200 OK"
        else:
            extra, status = b"Content-Type: text/plain\r\n", b"404 Not Found"
        s.sendall(b"HTTP/1.1 " + status + b"\r\n" + extra +
                  b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(BODY) + BODY)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8085
    with Server(("0.0.0.0", port), Handler) as srv:
        srv.serve_forever()


if __name__ == "__main__":
    main()
