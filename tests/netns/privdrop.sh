#!/bin/bash
# Privilege drop ([global] user): started as root, Remora runs every thread as
# the user with exactly CAP_NET_RAW, plus CAP_NET_BIND_SERVICE only when a
# listener or the admin port is below 1024 (permitted and effective, and the
# bounding set; nothing inheritable or ambient), never CAP_NET_ADMIN, and
# no_new_privs, and still does its job: a transparent request reaches the
# origin from the client's address (IP_TRANSPARENT works with CAP_NET_RAW);
# a SIGHUP reload that adds an IPv6 transparent listener on port 90 works and
# serves; SIGUSR1 reopens the access log as the user. Started with high ports
# only, the set is CAP_NET_RAW alone, spoofing still works, and a reload that
# adds a port below 1024 is refused with a message naming
# CAP_NET_BIND_SERVICE while the old configuration keeps serving. With the
# user's pipe pages taken, a body that goes by splice() is copied instead.
# Refusals: user set but not started as root -> exit 1 with a message; an
# unknown user -> exit 1, "no such user".
# Creates the system user remora-test if missing and removes it at the end
# only if it created it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
command -v useradd >/dev/null || { echo "SKIP: useradd not installed"; exit 77; }
command -v setpriv >/dev/null || { echo "SKIP: setpriv not installed"; exit 77; }
PD_USER=remora-test
PD_CREATED=0
tb_init rt-pd
pd_cleanup()
{
	tb_cleanup
	if [ "$PD_CREATED" = 1 ]; then
		userdel "$PD_USER" 2>/dev/null || true
		getent group "$PD_USER" >/dev/null && groupdel "$PD_USER" 2>/dev/null
		PD_CREATED=0
	fi
	return 0
}
trap pd_cleanup EXIT
if ! getent passwd "$PD_USER" >/dev/null; then
	useradd --system --user-group --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin "$PD_USER"
	PD_CREATED=1
fi
uid=$(id -u "$PD_USER")
gid=$(id -g "$PD_USER")
echo "user $PD_USER: uid $uid gid $gid (created by this test: $PD_CREATED)"

tb_up
tb_intercept_tproxy 3129 80
tb_origin_start
# After the drop Remora re-reads its configuration (SIGHUP) and reopens its
# access log (SIGUSR1) as the user: both must be reachable by it.
chmod 711 "$TB_WORKDIR"
mkdir -p "$TB_WORKDIR/alog"
chown "$PD_USER:$PD_USER" "$TB_WORKDIR/alog"
conf="$TB_WORKDIR/pd.conf"
write_conf()
{
	cat >"$conf" <<CONF
[global]
workers = 2
user = $PD_USER
access_log = $TB_WORKDIR/alog/access.log
[listener main4]
listen = 0.0.0.0:3129
[listener main6]
listen = [::]:3129
$1
CONF
	chmod 644 "$conf"
}
write_conf "[listener low4]
listen = 0.0.0.0:90"
rt_start "$conf" 3129 90
rt_expect_log "running as user $PD_USER: uid $uid, capabilities "
grep -h 'running as user' "$TB_WORKDIR/remora.log"

# check_creds WHAT [CAPS]: every thread of the process has the user's ids
# and exactly the capabilities CAPS (default 0x2400: CAP_NET_RAW and
# CAP_NET_BIND_SERVICE).
check_creds()
{
	local task n=0 st caps=${2:-0000000000002400} i=0
	# a freshly started process may still be starting its threads (the
	# listener is up first): wait for them, up to 5 s
	while [ "$(ls /proc/"$RT_PID"/task | wc -l)" -lt 6 ] && [ $i -lt 100 ]; do
		i=$((i + 1))
		sleep 0.05
	done
	for task in /proc/"$RT_PID"/task/*; do
		st=$(cat "$task/status")
		n=$((n + 1))
		grep -qxP "Uid:\t$uid\t$uid\t$uid\t$uid" <<<"$st" || tb_die "$task: $(grep ^Uid <<<"$st")"
		grep -qxP "Gid:\t$gid\t$gid\t$gid\t$gid" <<<"$st" || tb_die "$task: $(grep ^Gid <<<"$st")"
		grep -qxP "Groups:\t *" <<<"$st" || tb_die "$task: supplementary $(grep ^Groups <<<"$st")"
		grep -qxP "CapEff:\t$caps" <<<"$st" || tb_die "$task: $(grep ^CapEff <<<"$st")"
		grep -qxP "CapPrm:\t$caps" <<<"$st" || tb_die "$task: $(grep ^CapPrm <<<"$st")"
		grep -qxP "CapBnd:\t$caps" <<<"$st" || tb_die "$task: $(grep ^CapBnd <<<"$st")"
		grep -qxP "CapInh:\t0000000000000000" <<<"$st" || tb_die "$task: $(grep ^CapInh <<<"$st")"
		grep -qxP "CapAmb:\t0000000000000000" <<<"$st" || tb_die "$task: $(grep ^CapAmb <<<"$st")"
		grep -qxP "NoNewPrivs:\t1" <<<"$st" || tb_die "$task: $(grep ^NoNewPrivs <<<"$st")"
	done
	# main, acceptor, 2 workers, admin, access-log writer
	[ "$n" -ge 6 ] || tb_die "only $n threads"
	echo "ok: $n threads: uid/gid $uid/$gid, no groups, CapEff=CapPrm=CapBnd=0x${caps##*0000}, CapInh=CapAmb=0, NoNewPrivs=1 ($1)"
}
check_creds "after start"

body=$(rt_curl http://198.18.2.2/)
case $body in
"peer=198.18.1.2 port="*" dst=198.18.2.2:80") echo "ok: transparent request: $body" ;;
*) tb_die "unexpected echo: $body" ;;
esac
rt_hammer -t 198.18.2.2:80 -n 200 -c 10 -E addr
body=$(rt_curl -g "http://[2001:2:0:2::2]/")
case $body in
"peer=2001:2:0:1::2 port="*) echo "ok: transparent IPv6 request: $body" ;;
*) tb_die "unexpected IPv6 echo: $body" ;;
esac

# Reload as the user: a new transparent listener on a privileged port.
write_conf "[listener low4]
listen = 0.0.0.0:90
[listener low6]
listen = [::]:90"
kill -HUP "$RT_PID"
n=0
until grep -q 'info: reloaded ' "$TB_WORKDIR/remora.log"; do
	grep -q 'reload refused' "$TB_WORKDIR/remora.log" && {
		cat "$TB_WORKDIR/remora.log" >&2
		tb_die "reload refused"
	}
	n=$((n + 1)); [ $n -lt 100 ] || tb_die "reload not logged"; sleep 0.05
done
rt_expect_log 'reloaded .*: 4 listeners \(3 kept open, 1 new\)'
tb_wait_listen r 90 5 "$RT_PID" || tb_die "no listener on :90 after the reload"
tb_intercept_clear
tb_intercept_tproxy 90 80
rt_hammer -t 198.18.2.3:80 -n 200 -c 10 -E addr
body=$(rt_curl -g "http://[2001:2:0:2::2]/")
case $body in
"peer=2001:2:0:1::2 port="*) echo "ok: IPv6 through the reloaded listener :90: $body" ;;
*) tb_die "unexpected IPv6 echo after the reload: $body" ;;
esac
echo "ok: reload as $PD_USER opened a transparent listener on port 90 (v6); v4 and v6 on :90 serve"
check_creds "after the reload"

# SIGUSR1 as the user: the rotated file keeps the old lines, a new one is made.
mv "$TB_WORKDIR/alog/access.log" "$TB_WORKDIR/alog/access.log.1"
kill -USR1 "$RT_PID"
n=0
until grep -q 'access_log: reopened' "$TB_WORKDIR/remora.log"; do
	n=$((n + 1)); [ $n -lt 100 ] || tb_die "SIGUSR1: no reopen logged"; sleep 0.05
done
rt_curl -o /dev/null http://198.18.2.4/1k
n=0
until [ -s "$TB_WORKDIR/alog/access.log" ]; do
	n=$((n + 1)); [ $n -lt 100 ] || tb_die "nothing written to the reopened access log"; sleep 0.05
done
[ "$(stat -c %U "$TB_WORKDIR/alog/access.log")" = "$PD_USER" ] || tb_die "reopened log not owned by $PD_USER"
grep -q ' 198.18.1.2 TCP_MISS/200 .* GET http://198.18.2.4/1k ' "$TB_WORKDIR/alog/access.log" ||
	tb_die "access log line missing: $(cat "$TB_WORKDIR/alog/access.log")"
[ "$(wc -l <"$TB_WORKDIR/alog/access.log.1")" -ge 400 ] || tb_die "rotated log lost lines"
echo "ok: SIGUSR1 reopened the access log as $PD_USER"
rt_stop

# High ports only: CAP_NET_RAW alone, and spoofing still works with it.
tb_intercept_clear
tb_intercept_tproxy 3129 80
write_conf ""
rt_start "$conf" 3129
check_creds "high ports only" 0000000000002000
body=$(rt_curl http://198.18.2.2/)
case $body in
"peer=198.18.1.2 port="*" dst=198.18.2.2:80") echo "ok: transparent request with CAP_NET_RAW only: $body" ;;
*) tb_die "unexpected echo with CAP_NET_RAW only: $body" ;;
esac
rt_hammer -t 198.18.2.2:80 -n 100 -c 10 -E addr

# The user's pipe pages taken (fs.pipe-user-pages-soft: Linux then makes new
# pipes of 2 pages): a 64 KiB body, which goes by splice(), is copied instead
# and arrives whole; counted, and one warning per worker names the sysctl.
cat >"$TB_WORKDIR/hog.py" <<'PY'
import fcntl, os, sys, time
F_SETPIPE_SZ, F_GETPIPE_SZ = 1031, 1032
pipes = []
while len(pipes) < 400:
    r, w = os.pipe()
    pipes.append((r, w))
    try:
        fcntl.fcntl(w, F_SETPIPE_SZ, 1 << 20)
    except OSError:
        pass
    if fcntl.fcntl(w, F_GETPIPE_SZ) < 65536:
        break
print("hogging %d pipes" % len(pipes), flush=True)
time.sleep(60)
PY
setpriv --reuid="$uid" --regid="$gid" --clear-groups /usr/bin/python3 "$TB_WORKDIR/hog.py" >"$TB_WORKDIR/hog.log" 2>&1 &
hog=$!
until grep -q hogging "$TB_WORKDIR/hog.log"; do
	kill -0 "$hog" 2>/dev/null || tb_die "pipe hog: $(cat "$TB_WORKDIR/hog.log")"
	sleep 0.1
done
ADMIN=127.0.0.1:9180
size=$(rt_curl -o /dev/null -w '%{size_download}' http://198.18.2.2/64k)
kill "$hog"
wait "$hog" 2>/dev/null || true
rt_assert_eq "64 KiB body with no whole pipe to be had" "$size" 65536
small=$(rt_metric remora_splice_pipes_small_total)
[ "${small:-0}" -ge 1 ] || tb_die "remora_splice_pipes_small_total = ${small:-none}"
rt_expect_log 'new splice pipes come out under 64 KiB, so bodies and tunnels are copied instead'
echo "ok: no whole pipe (user's pipe pages taken): body copied, counted ($small), warned"

write_conf "[listener low4]
listen = 0.0.0.0:91"
kill -HUP "$RT_PID"
n=0
until grep -q 'reload refused' "$TB_WORKDIR/remora.log"; do
	n=$((n + 1)); [ $n -lt 100 ] || tb_die "reload adding port 91 not refused"; sleep 0.05
done
rt_expect_log 'reload refused: \[listener low4\] cannot listen on 0.0.0.0:91 \(transparent\) \(13: Permission denied\): a port below 1024 needs CAP_NET_BIND_SERVICE'
rt_hammer -t 198.18.2.2:80 -n 100 -c 10 -E addr
echo "ok: a reload adding port 91 is refused without CAP_NET_BIND_SERVICE; the old listeners serve"
rt_stop

# Refusal 1: user set, but not started as root (a redirect listener on a high
# port and no admin socket, so that nothing before the switch needs privileges).
cp "$REMORA" "$TB_WORKDIR/remora-bin"
chmod 755 "$TB_WORKDIR/remora-bin"
cat >"$TB_WORKDIR/nonroot.conf" <<CONF
[global]
workers = 1
user = $PD_USER
[listener r]
listen = 127.0.0.1:3150
mode = redirect
[admin]
listen = off
CONF
chmod 644 "$TB_WORKDIR/nonroot.conf"
rc=0
out=$(timeout 10 ip netns exec "$TB_R" setpriv --reuid="$uid" --regid="$gid" --clear-groups \
	"$TB_WORKDIR/remora-bin" -c "$TB_WORKDIR/nonroot.conf" 2>&1) || rc=$?
echo "$out"
rt_assert_eq "not root: exit status" "$rc" 1
grep -qF "[global] user = $PD_USER: not started as root, cannot switch" <<<"$out" ||
	tb_die "not root: message missing"

# Refusal 2: a user that does not exist (as root).
nosuch=remora-nosuch-user
getent passwd "$nosuch" >/dev/null && tb_die "$nosuch exists"
sed -e "s/^user = .*/user = $nosuch/" -e 's/3150/3151/' "$TB_WORKDIR/nonroot.conf" >"$TB_WORKDIR/nosuch.conf"
rc=0
out=$(timeout 10 ip netns exec "$TB_R" "$REMORA" -c "$TB_WORKDIR/nosuch.conf" 2>&1) || rc=$?
echo "$out"
rt_assert_eq "unknown user: exit status" "$rc" 1
grep -qF "[global] user = $nosuch: no such user" <<<"$out" || tb_die "unknown user: message missing"
echo "PASS"
