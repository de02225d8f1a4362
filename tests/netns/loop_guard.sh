#!/bin/bash
# Remora never connects to itself: a flow whose original destination is one of
# its own listeners is refused (loop guard), and a failed original-destination
# lookup (REDIRECT listener, flow not tracked by conntrack) is refused too;
# each with a log line naming the reason, and service goes on.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
tb_init rt-lg
tb_up
tb_intercept_tproxy 3129 80
tb_origin_start
tb_exec_r nft -f - <<'NFT'
table inet rt_lg_raw {
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		tcp dport 3131 notrack
	}
}
NFT
conf=$(rt_conf lg <<'CONF'
[global]
workers = 1
[listener tp]
listen = 0.0.0.0:3129
[listener nat]
listen = 0.0.0.0:3131
mode = redirect
spoof = none
CONF
)
rt_start "$conf" 3129 3131
rc=0
rt_curl http://198.18.1.1:3129/ || rc=$?
[ "$rc" -ne 0 ] || tb_die "a request to Remora's own listener was served"
rt_expect_log '198\.18\.1\.2:[0-9]+ -> 198\.18\.1\.1:3129 \[tp\] closed .*loop-guard'
echo "ok: loop guard"
rc=0
rt_curl http://198.18.1.1:3131/ || rc=$?
[ "$rc" -ne 0 ] || tb_die "an untracked REDIRECT flow was served"
rt_expect_log '\[nat\] closed while finding the original destination: orig-dst-failed'
echo "ok: failed original-destination lookup"
rt_hammer -t 198.18.2.2:80 -n 100 -c 10 -E addr
rt_stop
