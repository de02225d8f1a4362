#!/usr/bin/env python3
"""Parses Remora's access log back, field by field (stdlib only).

  known --format squid|json --expect REC --log FILE --workers N
      REC holds one JSON record per request (alog_client.py known). Every
      record must match exactly one log line and every line one record:
      time (epoch, 3 decimals, within the request's time window), elapsed
      (integer ms, not longer than the request took), client, code/status,
      bytes (exactly what the client received), method, URL (no query),
      user, hierarchy/peer, type (Squid: the media type, as Squid logs it;
      JSON: the Content-Type value or its media type), and for JSON also
      orig_dst, host, close_reason and worker. No line may hold a query.
  lines --format squid|json --url URL --status N --min-bytes B FILE...
      Every line of every FILE is complete and well-formed, says URL and
      status N and at least B bytes, with at most two distinct byte counts
      (the same response with keep-alive or close); prints the total number
      of lines.

Exit 0, or 1 after printing every mismatch ("FAIL: ...") on stderr.
"""
import argparse
import json
import re
import sys

SQUID_FIELDS = ["time", "elapsed", "client", "code_status", "bytes", "method", "url",
                "user", "hier_peer", "type"]
JSON_KEYS = {"time", "elapsed_ms", "status", "bytes", "worker", "client", "code", "method",
             "url", "peer", "type", "orig_dst", "host", "close_reason"}
SECRET = "qsecret"
FAILS = []


def fail(msg):
    FAILS.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def media_type(v):
    return re.split(r"[;\t ]", v, maxsplit=1)[0] if v else "-"


def as_list(v):
    return v if isinstance(v, list) else [v]


def parse_squid(line):
    """One Squid native line -> dict of fields, plus a list of format errors."""
    errs = []
    f = line.split()
    if len(f) != 10:
        errs.append("%d whitespace-separated fields, want 10 (Squid native format)" % len(f))
        if len(f) > 10:
            f = f[:9] + [" ".join(f[9:])]
        else:
            f += ["?"] * (10 - len(f))
    d = dict(zip(SQUID_FIELDS, f))
    if not re.fullmatch(r"\d{10}\.\d{3}", d["time"]):
        errs.append("time %r is not epoch seconds with 3 decimals" % d["time"])
    if not re.fullmatch(r"\d+", d["elapsed"]):
        errs.append("elapsed %r is not an integer" % d["elapsed"])
    m = re.fullmatch(r"([A-Z_]+)/(\d{3})", d["code_status"])
    if not m:
        errs.append("code/status %r malformed" % d["code_status"])
    m2 = re.fullmatch(r"([A-Z_]+)/(.+)", d["hier_peer"])
    if not m2:
        errs.append("hierarchy/peer %r malformed" % d["hier_peer"])
    if not d["bytes"].isdigit():
        errs.append("bytes %r is not an integer" % d["bytes"])
    out = {
        "time": float(d["time"]) if re.fullmatch(r"\d+(\.\d+)?", d["time"]) else 0.0,
        "elapsed": int(d["elapsed"]) if d["elapsed"].isdigit() else -1,
        "client": d["client"],
        "code": m.group(1) if m else "?",
        "status": int(m.group(2)) if m else -1,
        "bytes": int(d["bytes"]) if d["bytes"].isdigit() else -1,
        "method": d["method"],
        "url": d["url"],
        "user": d["user"],
        "hier": m2.group(1) if m2 else "?",
        "peer": m2.group(2) if m2 else "?",
        "type": d["type"],
    }
    return out, errs


def parse_json(line):
    errs = []
    try:
        j = json.loads(line)
    except ValueError as e:
        return None, ["not valid JSON (%s)" % e]
    if not isinstance(j, dict):
        return None, ["not a JSON object"]
    if set(j) != JSON_KEYS:
        errs.append("keys %s, want %s" % (sorted(j), sorted(JSON_KEYS)))
    if not re.search(r'"time":\d{10}\.\d{3}[,}]', line):
        errs.append("time is not epoch seconds with 3 decimals")
    for k in ("elapsed_ms", "status", "bytes", "worker"):
        if not isinstance(j.get(k), int) or isinstance(j.get(k), bool):
            errs.append("%s %r is not an integer" % (k, j.get(k)))
    for k in ("client", "code", "method", "url", "peer", "type", "orig_dst", "host",
              "close_reason"):
        if not isinstance(j.get(k), str):
            errs.append("%s %r is not a string" % (k, j.get(k)))
    out = {
        "time": j.get("time") if isinstance(j.get("time"), (int, float)) else 0.0,
        "elapsed": j.get("elapsed_ms", -1),
        "client": j.get("client"),
        "code": j.get("code"),
        "status": j.get("status"),
        "bytes": j.get("bytes"),
        "method": j.get("method"),
        "url": j.get("url"),
        "peer": j.get("peer"),
        "type": j.get("type"),
        "orig_dst": j.get("orig_dst"),
        "host": j.get("host"),
        "close_reason": j.get("close_reason"),
        "worker": j.get("worker"),
    }
    return out, errs


def read_lines(path):
    with open(path, "rb") as f:
        data = f.read()
    if data and not data.endswith(b"\n"):
        fail("%s: the last line is not complete (%r)" % (path, data[-80:]))
    lines = data.decode("utf-8", "replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def diffs(fmt, rec, got, workers):
    """Field mismatches between an expected record and a parsed line."""
    d = []

    def want(field, ok, shown):
        if not ok:
            d.append("%s: got %r, want %s" % (field, got.get(field), shown))

    want("client", got["client"] == rec["client"], repr(rec["client"]))
    want("code", got["code"] == rec["code"], repr(rec["code"]))
    want("status", got["status"] in as_list(rec["status"]), rec["status"])
    want("bytes", got["bytes"] == rec["bytes"],
         "%d (bytes the client received)" % rec["bytes"])
    want("method", got["method"] in as_list(rec["method"]), rec["method"])
    want("url", got["url"] in as_list(rec["url"]), rec["url"])
    want("peer", got["peer"] == rec["peer"], repr(rec["peer"]))
    want("time", rec["t0"] - 0.1 <= got["time"] <= rec["t1"] + 0.1,
         "within [%.3f, %.3f]" % (rec["t0"], rec["t1"]))
    took = int((rec["t1"] - rec["t0"]) * 1000) + 50
    want("elapsed", 0 <= got["elapsed"] <= took, "0..%d ms" % took)
    if fmt == "squid":
        want("user", got["user"] == rec["user"], repr(rec["user"]))
        want("hier", got["hier"] == rec["hier"], repr(rec["hier"]))
        want("type", got["type"] == media_type(rec["type"]),
             "%r (media type of the response's Content-Type %r)" %
             (media_type(rec["type"]), rec["type"]))
    else:
        want("type", got["type"] in (rec["type"], media_type(rec["type"])),
             "%r (the response's Content-Type) or its media type" % rec["type"])
        want("orig_dst", got["orig_dst"] == rec["orig_dst"], repr(rec["orig_dst"]))
        want("host", got["host"] == rec["host"], repr(rec["host"]))
        if rec["reasons"] is not None:
            want("close_reason", got["close_reason"] in rec["reasons"], rec["reasons"])
        want("worker", isinstance(got["worker"], int) and 0 <= got["worker"] < workers,
             "0..%d" % (workers - 1))
    return d


def known(args):
    with open(args.expect) as f:
        recs = [json.loads(x) for x in f if x.strip()]
    raw = read_lines(args.log)
    parse = parse_squid if args.format == "squid" else parse_json
    lines = []
    for i, line in enumerate(raw, 1):
        got, errs = parse(line)
        for e in errs:
            fail("line %d: %s: %s" % (i, e, line))
        if SECRET in line or "?" in line:
            fail("line %d holds a query string: %s" % (i, line))
        if got is not None:
            lines.append((i, line, got))
    if len(raw) != len(recs):
        fail("%d lines, want %d (one per request)" % (len(raw), len(recs)))
    else:
        print("ok: %d lines for %d requests" % (len(raw), len(recs)), file=sys.stderr)
    for rec in recs:
        cands = [x for x in lines if x[2]["url"] in as_list(rec["url"])]
        if not cands:
            fail("%s: no line with URL %s" % (rec["what"], rec["url"]))
            continue
        best = min(cands, key=lambda x: len(diffs(args.format, rec, x[2], args.workers)))
        lines.remove(best)
        d = diffs(args.format, rec, best[2], args.workers)
        if d:
            for x in d:
                fail("%s: line %d: %s" % (rec["what"], best[0], x))
            print("      line %d: %s" % (best[0], best[1]), file=sys.stderr)
        else:
            print("ok: %s: %s" % (rec["what"], best[1]), file=sys.stderr)
    for i, line, _ in lines:
        fail("line %d matches no request: %s" % (i, line))


def lines_cmd(args):
    parse = parse_squid if args.format == "squid" else parse_json
    total, sizes = 0, {}
    for path in args.files:
        for i, line in enumerate(read_lines(path), 1):
            total += 1
            got, errs = parse(line)
            if got is not None and got["url"] != args.url:
                errs.append("URL %r, want %r" % (got["url"], args.url))
            if got is not None and got["status"] != args.status:
                errs.append("status %r, want %d" % (got["status"], args.status))
            if got is not None:
                sizes[got["bytes"]] = sizes.get(got["bytes"], 0) + 1
            for e in errs[:3]:
                fail("%s:%d: %s: %r" % (path, i, e, line))
            if len(FAILS) > 20:
                print("(too many failures, stopping)", file=sys.stderr)
                return
    # one response, sent with "Connection: keep-alive" or "Connection: close"
    if len(sizes) > 2 or min(sizes or [args.min_bytes]) < args.min_bytes:
        fail("byte counts %s: want at most two sizes, each at least %d" %
             (sizes, args.min_bytes))
    print(total)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("known")
    k.add_argument("--format", choices=("squid", "json"), required=True)
    k.add_argument("--expect", required=True)
    k.add_argument("--log", required=True)
    k.add_argument("--workers", type=int, required=True)
    ln = sub.add_parser("lines")
    ln.add_argument("--format", choices=("squid", "json"), required=True)
    ln.add_argument("--url", required=True)
    ln.add_argument("--status", type=int, required=True)
    ln.add_argument("--min-bytes", type=int, required=True)
    ln.add_argument("files", nargs="+")
    args = ap.parse_args()
    known(args) if args.cmd == "known" else lines_cmd(args)
    if FAILS:
        print("%d access-log checks failed" % len(FAILS), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
