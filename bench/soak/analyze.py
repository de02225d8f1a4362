#!/usr/bin/env python3
"""Judges a Remora soak run (bench/soak/run.sh): stdlib only.

  analyze.py samples.csv --workers N --before FDS,PIPES,RSS --after FDS,PIPES,RSS
             [--wrk wrk.out] [--churn churn.out] [--traffic traffic.json]

samples.csv has one row per sample (t_s, rss_kb, fds, pipe_fds, other_fds,
conns_open, jemalloc_*, rsp_<class>, close_<reason>). The first 20 % of the
samples are warm-up. Flat means, over the samples after warm-up:

  descriptors  other_fds (everything but pipe ends: sockets, eventfds, files)
               max - min <= FD_RANGE, and the median of the last third of all
               samples <= the median of the middle third + FD_TREND;
               pipe ends never above the count before traffic + 2 x 64 pipes
               per worker (the pool's bound, src/worker.c);
  RSS          max - first <= RSS_GROWTH_KB, and the median of the last third
               <= the median of the middle third + RSS_TREND_KB;
  leaks        once the traffic stopped and every connection ended, other_fds
               equals the count before any traffic.

Also failing: wrk errors or non-2xx responses, or a failed hammer request (the
well-behaved traffic). Unexpected outcomes of bad requests and faults are
reported, not judged (tests/netns/faults.sh judges those). Prints a summary;
exit 0 when flat, 1 otherwise.
"""
import argparse
import csv
import json
import re
import statistics
import sys

FD_RANGE = 64        # live connections come and go: 2 descriptors each
FD_TREND = 8
RSS_GROWTH_KB = 4096
RSS_TREND_KB = 1024
PIPES_PER_WORKER = 64


def slope_per_min(ts, ys):
    """Least-squares slope of ys over ts (seconds), per minute."""
    n = len(ts)
    if n < 2:
        return 0.0
    mt, my = sum(ts) / n, sum(ys) / n
    var = sum((t - mt) ** 2 for t in ts)
    if var == 0:
        return 0.0
    return 60.0 * sum((t - mt) * (y - my) for t, y in zip(ts, ys)) / var


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv")
    ap.add_argument("--workers", type=int, required=True)
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--wrk")
    ap.add_argument("--churn")
    ap.add_argument("--traffic")
    ap.add_argument("--duration", type=float, default=0)
    ap.add_argument("--interval", type=float, default=0)
    args = ap.parse_args()
    rows = list(csv.DictReader(open(args.csv)))
    fails = []
    n = len(rows)
    if n < 5:
        print("soak: only %d samples: too few to judge" % n)
        return 1
    warm = (n + 4) // 5
    steady = rows[warm:]
    third = n // 3
    middle, last = rows[third:2 * third], rows[2 * third:]
    col = lambda rs, k: [float(r[k]) for r in rs]
    b_other, b_pipes, b_rss = (int(x) for x in args.before.split(","))
    a_other, a_pipes, a_rss = (int(x) for x in args.after.split(","))

    print("soak: %d samples over %.0f s (every %.0f s); warm-up: the first %d" %
          (n, float(rows[-1]["t_s"]), args.interval, warm))
    # descriptors
    fds = col(steady, "other_fds")
    fd_range = max(fds) - min(fds)
    fd_trend = statistics.median(col(last, "other_fds")) - statistics.median(col(middle, "other_fds"))
    pipes_max = max(col(rows, "pipe_fds"))
    pipes_bound = b_pipes + 2 * PIPES_PER_WORKER * args.workers
    print("descriptors (non-pipe): before traffic %d; after warm-up min %d max %d (range %d, "
          "bound %d); median last third - middle third %+.1f (bound %d); slope %+.2f/min" %
          (b_other, min(fds), max(fds), fd_range, FD_RANGE, fd_trend, FD_TREND,
           slope_per_min(col(steady, "t_s"), fds)))
    print("pipe ends: before traffic %d, at most %d during (bound %d), %d after" %
          (b_pipes, pipes_max, pipes_bound, a_pipes))
    print("connections open: after warm-up min %d max %d" %
          (min(col(steady, "conns_open")), max(col(steady, "conns_open"))))
    if fd_range > FD_RANGE:
        fails.append("descriptor range %d > %d" % (fd_range, FD_RANGE))
    if fd_trend > FD_TREND:
        fails.append("descriptors trend up: %+.1f > %d" % (fd_trend, FD_TREND))
    if pipes_max > pipes_bound or a_pipes > pipes_bound:
        fails.append("pipe ends %d above the pool's bound %d" % (max(pipes_max, a_pipes),
                                                                  pipes_bound))
    if a_other != b_other:
        fails.append("non-pipe descriptors after the traffic: %d, before: %d" % (a_other, b_other))
    else:
        print("leaks: none (non-pipe descriptors back to %d once every connection ended)" % a_other)
    # RSS
    rss = col(steady, "rss_kb")
    growth = max(rss) - rss[0]
    rss_trend = statistics.median(col(last, "rss_kb")) - statistics.median(col(middle, "rss_kb"))
    print("RSS KiB: before traffic %d; after warm-up first %d min %d max %d (growth %+d, bound "
          "%d); median last third - middle third %+.0f (bound %d); slope %+.1f KiB/min; "
          "after traffic %d" %
          (b_rss, rss[0], min(rss), max(rss), growth, RSS_GROWTH_KB, rss_trend, RSS_TREND_KB,
           slope_per_min(col(steady, "t_s"), rss), a_rss))
    if growth > RSS_GROWTH_KB:
        fails.append("RSS grew %d KiB after warm-up > %d" % (growth, RSS_GROWTH_KB))
    if rss_trend > RSS_TREND_KB:
        fails.append("RSS trends up: %+.0f KiB > %d" % (rss_trend, RSS_TREND_KB))
    if "jemalloc_allocated" in rows[0]:
        al = col(steady, "jemalloc_allocated")
        print("jemalloc allocated KiB: after warm-up min %d max %d" %
              (min(al) / 1024, max(al) / 1024))
    # counters over the whole run
    first, final = rows[0], rows[-1]
    rsp = {k[4:]: int(final[k]) - int(first[k]) for k in final if k.startswith("rsp_")}
    closes = {k[6:]: int(final[k]) - int(first[k]) for k in final if k.startswith("close_")}
    print("responses: " + ", ".join("%s %d" % kv for kv in sorted(rsp.items())))
    print("closes: " + ", ".join("%s %d" % kv for kv in sorted(closes.items(), key=lambda x: -x[1])
                                 if kv[1]))
    # the well-behaved traffic
    if args.wrk:
        text = open(args.wrk).read()
        m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", text)
        reqs = int(m.group(1)) if m else 0
        errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                         text)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
        lat = re.search(r"^\s+99%\s+(\S+)", text, re.M)
        nerr = sum(int(x) for x in errs.groups()) if errs else 0
        print("keep-alive (wrk): %d requests, p99 %s, socket errors %d, non-2xx %d" %
              (reqs, lat.group(1) if lat else "?", nerr, int(non2xx.group(1)) if non2xx else 0))
        if reqs == 0 or nerr or non2xx:
            fails.append("wrk: %d requests, %d socket errors, %s non-2xx" %
                         (reqs, nerr, non2xx.group(1) if non2xx else 0))
    if args.churn:
        ok = failed = runs = 0
        text = open(args.churn).read()
        for m in re.finditer(r"hammer: ok=(\d+) failed=(\d+)", text):
            ok += int(m.group(1))
            failed += int(m.group(2))
            runs += 1
        print("churn (hammer, Connection: close): %d runs, %d ok, %d failed" % (runs, ok, failed))
        if failed or ok == 0 or "hammer run failed" in text:
            fails.append("churn: %d ok, %d failed" % (ok, failed))
    if args.traffic:
        try:
            t = json.load(open(args.traffic))
        except (OSError, ValueError):
            t = {}
            fails.append("no result from the bad-request/fault traffic")
        exp = sum(c["expected"] for c in t.values())
        unexp = sum(c["unexpected"] for c in t.values())
        print("bad requests and faults: %d cases as expected, %d not" % (exp, unexp))
        for name, c in sorted(t.items()):
            if c["unexpected"]:
                print("  %s: %s" % (name, ", ".join("%s %d" % kv
                                                     for kv in sorted(c["outcomes"].items()))))
    if fails:
        print("soak: NOT FLAT / FAILED: " + "; ".join(fails))
        return 1
    print("soak: flat: RSS and descriptors stayed level, nothing leaked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
