#!/bin/bash
# With 2 workers, connections are spread across both, under each balancing
# policy (p2c and round-robin); the per-worker totals are in the exit summary.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
tb_init rt-wk
tb_up
tb_intercept_tproxy 3129 80
tb_origin_start

for balance in p2c round-robin; do
	conf=$(rt_conf "wk-$balance" <<CONF
[global]
workers = 2
balance = $balance
[listener w]
listen = 0.0.0.0:3129
CONF
	)
	rt_start "$conf" 3129
	rt_hammer -t 198.18.2.2:80 -n 400 -c 20 -E addr
	rt_stop
	for w in 0 1; do
		n=$(sed -nE "s/.*worker $w: ([0-9]+) connections.*/\1/p" "$TB_WORKDIR/remora.log")
		echo "$balance: worker $w handled ${n:-0} connections"
		[ "${n:-0}" -ge 40 ] || tb_die "$balance: worker $w got ${n:-0} of 400 connections"
	done
	if [ "$balance" = round-robin ]; then
		rt_expect_log 'worker 0: 200 connections'
		rt_expect_log 'worker 1: 200 connections'
	fi
	mv "$TB_WORKDIR/remora.log" "$TB_WORKDIR/remora-$balance.log"
done
