#!/bin/bash
# A kept-alive upstream that closes just as the next request arrives (the
# keep-alive race): a GET is resent once on a fresh upstream connection and
# the client never notices; a POST is not resent: the client's connection
# closes with no status, as the origin's would have, so the client retries.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
tb_init rt-rt
tb_up
tb_intercept_tproxy 3129 8084
tb_origin_start
# origin on :8084: answers the first request of each connection, then closes
# the connection when the second one arrives, without answering it
cat >"$TB_WORKDIR/racy.py" <<'PY'
import socket, threading
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("198.18.2.2", 8084)); srv.listen(64)
def serve(c):
    n = 0
    buf = b""
    while True:
        d = c.recv(4096)
        if not d:
            break
        buf += d
        while b"\r\n\r\n" in buf:
            head, buf = buf.split(b"\r\n\r\n", 1)
            n += 1
            if n == 2:
                c.close()
                return
            body = b"served " + head.split(b" ")[1] + b"\n"
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    c.close()
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
tb_spawn o racy python3 "$TB_WORKDIR/racy.py"
tb_wait_listen o 8084 10 "$TB_LAST_PID"
conf=$(rt_conf rt <<'CONF'
[global]
workers = 1
[listener rt]
listen = 0.0.0.0:3129
[admin]
listen = 127.0.0.1:9180
CONF
)
rt_start "$conf" 3129 9180
tb_exec_c python3 - <<'PY'
import socket
def get(s, path, method="GET", body=b""):
    s.sendall(b"%s %s HTTP/1.1\r\nHost: racy\r\nContent-Length: %d\r\n\r\n%s" % (method.encode(), path.encode(), len(body), body))
    data = b""
    while b"\r\n\r\n" not in data:
        d = s.recv(4096)
        if not d:
            return data
        data += d
    head, rest = data.split(b"\r\n\r\n", 1)
    n = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
    while len(rest) < n:
        rest += s.recv(4096)
    return head.split(b"\r\n")[0] + b" | " + rest
s = socket.create_connection(("198.18.2.2", 8084), timeout=5)
a = get(s, "/a"); b = get(s, "/b"); c = get(s, "/c")
print(a, b, c)
assert a == b"HTTP/1.1 200 OK | served /a\n", a
assert b == b"HTTP/1.1 200 OK | served /b\n", b   # resent on a new upstream connection
assert c.startswith(b"HTTP/1.1 200 OK"), c          # same again, third request
s.close()
s = socket.create_connection(("198.18.2.2", 8084), timeout=5)
a = get(s, "/p1", "POST", b"x")
b = get(s, "/p2", "POST", b"y")
print(a, b)
assert a.startswith(b"HTTP/1.1 200"), a
assert b == b"", b  # a POST is not resent: closed, no status
print("ok: GET resent after the keep-alive race, POST closed with no status")
PY
m=$(tb_exec_r curl -s http://127.0.0.1:9180/metrics)
grep -q '^remora_upstream_retries_total 2$' <<<"$m" || tb_die "retries: $(echo "$m" | grep retries)"
rt_stop
