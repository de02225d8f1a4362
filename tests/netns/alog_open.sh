#!/bin/bash
# The access log is opened safely (regression test for issue 9, item 5: root
# followed a symlink planted in a directory the service user owns):
#  1. root, a symlink planted at the log path -> start refused, naming the path
#     and "symbolic link"; the link's target is not created;
#  2. root, the log's directory owned by another user, or world-writable
#     (mode 1777) -> start refused, naming the directory and who can write it;
#  3. [global] user = nobody, a directory nobody owns: a planted symlink is
#     refused as well; without it Remora starts and the log file is created by
#     nobody (opened after the privilege drop, as it is reopened later);
#  4. SIGUSR1 reopens with the same rules: a symlink planted at the path after
#     a rotation is refused ("keeping the old file"), its target not created,
#     and lines keep going to the old file.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
getent passwd nobody >/dev/null || { echo "SKIP: no user nobody"; exit 77; }
tb_init rt-ao
tb_up
tb_intercept_tproxy 3129 80
tb_origin_start
W=$TB_WORKDIR
chmod 711 "$W" # nobody must reach its directory and the configuration
mkdir -p "$W/victim" "$W/rootlogs" "$W/userlogs" "$W/worldlogs"
chmod 755 "$W/victim" "$W/rootlogs"
chown nobody "$W/userlogs"
chmod 1777 "$W/worldlogs"

# conf NAME LOGPATH [USER]: a configuration file, its path on stdout.
conf()
{
	rt_conf "$1" <<CONF
[global]
workers = 1
access_log = $2
${3:+user = $3}
[listener al]
listen = 0.0.0.0:3129
mode = tproxy
[admin]
listen = off
CONF
	chmod 644 "$W/$1.conf"
}

# refused NAME CONF TEXT...: remora must exit 1 at start with every TEXT in its output.
refused()
{
	local name=$1 cf=$2 rc=0 out t
	shift 2
	out=$(timeout 10 ip netns exec "$TB_R" "$REMORA" -c "$cf" 2>&1) || rc=$?
	echo "$out" | grep -E 'access_log|error' || true
	rt_assert_eq "$name: exit status" "$rc" 1
	for t in "$@"; do
		grep -qF -- "$t" <<<"$out" || tb_die "$name: the message lacks '$t'"
	done
}

# 1. a symlink planted where root would create the log
ln -s "$W/victim/made-by-root" "$W/rootlogs/access.log"
refused "symlink as root" "$(conf c1 "$W/rootlogs/access.log")" \
	"access_log: cannot open $W/rootlogs/access.log" "symbolic link"
[ ! -e "$W/victim/made-by-root" ] || tb_die "root created the symlink's target"
echo "ok: symlink as root refused, target not created"
rm "$W/rootlogs/access.log"

# 2. directories someone else can write to
refused "user-owned directory as root" "$(conf c2 "$W/userlogs/access.log")" \
	"refusing to open $W/userlogs/access.log as root" \
	"its directory $W/userlogs is writable by its owner, uid $(id -u nobody)"
refused "world-writable directory as root" "$(conf c3 "$W/worldlogs/access.log")" \
	"its directory $W/worldlogs is writable by everyone (mode 1777)"
[ ! -e "$W/userlogs/access.log" ] && [ ! -e "$W/worldlogs/access.log" ] ||
	tb_die "a refused log was created"
echo "ok: directories writable by others refused as root, nothing created"

# 3. as the user (opened after the drop): the link is refused too; without it
#    the file is the user's
ln -s "$W/victim/made-by-user" "$W/userlogs/access.log"
refused "symlink as nobody" "$(conf c4 "$W/userlogs/access.log" nobody)" "symbolic link"
[ ! -e "$W/victim/made-by-user" ] || tb_die "the symlink's target was created"
rm "$W/userlogs/access.log"
rt_start "$(conf c5 "$W/userlogs/access.log" nobody)" 3129
rt_curl -o /dev/null http://198.18.2.2/1k
rt_stop
[ "$(stat -c %U "$W/userlogs/access.log")" = nobody ] ||
	tb_die "log owned by $(stat -c %U "$W/userlogs/access.log"), want nobody"
grep -q ' GET http://198.18.2.2/1k ' "$W/userlogs/access.log" || tb_die "no line as nobody"
echo "ok: [global] user = nobody: symlink refused; the log is created by nobody"

# 4. SIGUSR1 after a rotation, with a symlink planted at the path
log="$W/rootlogs/access.log"
rt_start "$(conf c6 "$log")" 3129
rt_curl -o /dev/null http://198.18.2.2/1k
mv "$log" "$log.1"
ln -s "$W/victim/reopened-by-root" "$log"
kill -USR1 "$RT_PID"
n=0
until grep -q "access_log: cannot open $log" "$W/remora.log"; do
	n=$((n + 1))
	[ $n -lt 100 ] || { cat "$W/remora.log" >&2; tb_die "SIGUSR1: no refusal logged"; }
	sleep 0.05
done
rt_expect_log "cannot open $log \(40: .*symbolic link.*keeping the old file"
rt_curl -o /dev/null http://198.18.2.3/1k
rt_stop
[ ! -e "$W/victim/reopened-by-root" ] || tb_die "SIGUSR1 followed the symlink"
grep -q ' GET http://198.18.2.3/1k ' "$log.1" || tb_die "lines after the refused reopen lost"
echo "ok: SIGUSR1 refused the planted symlink and kept writing the old file"
echo "PASS"
