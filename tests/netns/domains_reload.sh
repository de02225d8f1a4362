#!/bin/bash
# [acl] deny_domains at scale, swapped by a hitless reload under load: two
# lists of a million names each (plus one suffix rule each) load from files;
# the first denies .blocked.test (HTTP 451), the second .other.test; a
# reload from one to the other while a hammer runs loses no request, and
# afterwards the new list, not the old one, decides.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
tb_init rt-dom
tb_up
tb_intercept_tproxy 3129 80
tb_origin_start
W=$TB_WORKDIR
python3 - "$W" <<'PY'
import sys
w = sys.argv[1]
for n, (tag, suffix) in enumerate((("a", ".blocked.test"), ("b", ".other.test"))):
    with open("%s/list-%s.txt" % (w, tag), "w") as f:
        f.write("# generated: a million names, one suffix rule\n%s\n" % suffix)
        for i in range(1000000):
            f.write("host%d-%s.zone%d.example\n" % (i, tag, i % 977))
PY
conf="$W/dom.conf"
write_conf()
{
	cat >"$conf" <<CONF
[global]
workers = 2
[listener d]
listen = 0.0.0.0:3129
[acl]
deny_domains_file = $W/list-$1.txt
CONF
}
write_conf a
t0=$(date +%s%N)
rt_start "$conf" 3129
echo "ok: started with a million-name list in $(( ($(date +%s%N) - t0) / 1000000 )) ms (including the testbed's wait)"
status() { rt_curl -o /dev/null -w '%{http_code}' -H "Host: $1" http://198.18.2.2/; }
rt_assert_eq "list a: x.blocked.test" "$(status x.blocked.test)" 451
rt_assert_eq "list a: a listed name" "$(status host77-a.zone77.example)" 451
rt_assert_eq "list a: x.other.test passes" "$(status x.other.test)" 200
rss=$(awk '/^VmRSS/ { print $2 }' /proc/"$RT_PID"/status)
echo "ok: RSS with one million-name list: $rss kB"

# a hammer runs while the list is swapped
tb_exec_c "$HAMMER" -t 198.18.2.2:80 -n 60000 -c 20 -k 10 -E addr -T 90 >"$W/hammer.out" 2>&1 &
hpid=$!
sleep 0.3
write_conf b
kill -HUP "$RT_PID"
n=0
until grep -q 'info: reloaded ' "$W/remora.log"; do
	n=$((n + 1)); [ $n -lt 300 ] || tb_die "reload not logged within 15 s"; sleep 0.05
done
kill -0 "$hpid" 2>/dev/null || tb_die "the hammer ended before the reload: nothing was tested under load"
wait "$hpid" || { cat "$W/hammer.out" >&2; tb_die "requests failed during the reload"; }
cat "$W/hammer.out"
grep -q ' failed=0 ' "$W/hammer.out" || tb_die "the hammer saw failures"
echo "ok: reload to the second list under load: no request lost"
rt_assert_eq "list b: x.blocked.test passes" "$(status x.blocked.test)" 200
rt_assert_eq "list b: x.other.test" "$(status x.other.test)" 451
rt_assert_eq "list b: a name of list a passes" "$(status host77-a.zone77.example)" 200
rt_assert_eq "list b: a name of list b" "$(status host5-b.zone5.example)" 451
rt_stop
echo PASS
