#!/usr/bin/env python3
"""Histogram and dashboard checks for Remora's histograms netns test (stdlib only).

  histograms FILE [EXPR...]
      Validates FILE as alog_metrics.py check does (text format 0.0.4), then
      every histogram family in it by the format's rules: per label set, the
      _bucket lines come in strictly increasing le order, end with le="+Inf",
      are cumulative (never decreasing), the +Inf bucket equals _count, and
      _sum and _count exist. Then evaluates each EXPR (as alog_metrics.py;
      `sum(NAME)` adds every series of NAME).
  dashboard JSON FILE
      Extracts every metric name that the Grafana dashboard JSON queries
      (PromQL in "expr" of targets, "query"/"definition" of template
      variables) and checks that each exists in the exposition FILE, as a
      sample name or a family with a # TYPE line.
  origin PORT DELAY
      A tiny HTTP/1.1 origin (keep-alive) that answers every request after
      DELAY seconds with "slow\\n".

Exit 0, or 1 after printing every failure ("FAIL: ...") on stderr.
"""
import json
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import alog_metrics as am  # noqa: E402  (the text-format parser)

# PromQL words that are not metric names
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and",
            "or", "unless", "offset", "inf", "nan", "atan2"}


def histograms(text):
    series = am.parse(text)
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    n = 0
    for fam, t in types.items():
        if t != "histogram":
            continue
        groups = {}
        for line in text.splitlines():
            m = am.SAMPLE.fullmatch(line)
            if not m or m.group(1) != fam + "_bucket":
                continue
            labels = am.parse_labels(m.group(2) or "")
            le = labels.pop("le", None)
            if le is None:
                am.fail("%s: a _bucket without le" % line)
                continue
            groups.setdefault(frozenset(labels.items()), []).append((le, float(m.group(3))))
        if not groups:
            am.fail("histogram %s has no buckets" % fam)
        for key, buckets in groups.items():
            n += 1
            what = "%s%s" % (fam, dict(key))
            les = [float(le.replace("+Inf", "inf")) for le, _ in buckets]
            if any(b <= a for a, b in zip(les, les[1:])):
                am.fail("%s: le not strictly increasing: %s" % (what, [le for le, _ in buckets]))
            if buckets[-1][0] != "+Inf" or not math.isinf(les[-1]):
                am.fail("%s: the last bucket is not le=\"+Inf\"" % what)
            vals = [v for _, v in buckets]
            if any(b < a for a, b in zip(vals, vals[1:])):
                am.fail("%s: buckets not cumulative: %s" % (what, vals))
            count = series.get((fam + "_count", key))
            total = series.get((fam + "_sum", key))
            if count is None or total is None:
                am.fail("%s: _count or _sum missing" % what)
            elif count != vals[-1]:
                am.fail("%s: +Inf bucket %s != _count %s" % (what, vals[-1], count))
            elif total < 0 or (count == 0 and total != 0):
                am.fail("%s: _sum %s with _count %s" % (what, total, count))
    print("ok: %d histogram series checked" % n, file=sys.stderr)
    return series


def promql_names(expr):
    """Metric names an expression selects."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)      # string literals
    e = re.sub(r"\{[^}]*\}", "", e)                    # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)                   # ranges, subqueries
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)
    e = re.sub(r"\$\{?\w+\}?", "", e)                  # Grafana variables
    names = set()
    for m in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?", e):
        if m.group(2) or m.group(1).lower() in KEYWORDS:
            continue                                   # a function or a keyword
        names.add(m.group(1))
    return names


def dashboard_exprs(node):
    """Every PromQL string in a dashboard: targets' expr, variables' query."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "expr" and isinstance(v, str):
                yield v
            elif k in ("query", "definition") and isinstance(v, str) and "(" in v:
                # label_values(metric, label): the metric is what is queried
                m = re.fullmatch(r"\s*label_values\((.*),\s*\w+\)\s*", v)
                yield m.group(1) if m else v
            else:
                yield from dashboard_exprs(v)
    elif isinstance(node, list):
        for v in node:
            yield from dashboard_exprs(v)


def dashboard(path, text):
    with open(path) as f:
        dash = json.load(f)
    for k in ("title", "panels", "uid", "schemaVersion"):
        if k not in dash:
            am.fail("%s: no %r (not an importable dashboard)" % (path, k))
    am.parse(text)
    have = set(re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", text, re.M))
    have |= set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    exprs = list(dashboard_exprs(dash))
    names = set()
    for e in exprs:
        got = promql_names(e)
        if not got:
            am.fail("dashboard expression selects no metric: %r" % e)
        names |= got
    if not exprs:
        am.fail("%s: no PromQL expressions found" % path)
    for n in sorted(names):
        if n in have:
            print("ok: dashboard metric %s is in /metrics" % n, file=sys.stderr)
        else:
            am.fail("dashboard queries %s, which /metrics does not have" % n)
    print("%d expressions, %d metric names" % (len(exprs), len(names)), file=sys.stderr)


def origin(port, delay):
    import http.server
    import time

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            time.sleep(delay)
            self.send_response(200)
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"slow\n")

        def log_message(self, *a):
            pass

    http.server.ThreadingHTTPServer(("0.0.0.0", port), H).serve_forever()


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "origin" and len(sys.argv) == 4:
        origin(int(sys.argv[2]), float(sys.argv[3]))
        return 0
    if cmd == "histograms" and len(sys.argv) >= 3:
        with open(sys.argv[2]) as f:
            series = histograms(f.read())
        for expr in sys.argv[3:]:
            am.check(series, expr)
    elif cmd == "dashboard" and len(sys.argv) == 4:
        with open(sys.argv[3]) as f:
            dashboard(sys.argv[2], f.read())
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 1 if am.FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
