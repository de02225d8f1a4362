#!/usr/bin/env python3
"""Prometheus text-format checker for Remora's metrics netns test (stdlib only).

  check FILE [EXPR...]
      Validates FILE as Prometheus text exposition format 0.0.4: every sample
      line is `name{label="value",...} value`, names and label names are
      valid, label values properly escaped, values are numbers; every sample
      belongs to a family whose # TYPE (and # HELP, if any) came first, at
      most one TYPE and HELP per family, a family's samples are contiguous,
      no series appears twice, counters are not negative. Then evaluates
      each EXPR, e.g.
          'remora_responses_total{class="2xx"} == 300'
          'sum(remora_connections_accepted_total) == 22'
          'remora_bytes_total{direction="to_clients"} >= 1000'
      (operators ==, >=, <=; a series named in an EXPR must exist, a sum()
      must find at least one series).
  get FILE SERIES
      Prints the value of SERIES (a series or a sum(), as in EXPR).

Exit 0, or 1 after printing every failure ("FAIL: ...") on stderr.
"""
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LNAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}
FAILS = []


def fail(msg):
    FAILS.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def parse_labels(s):
    """'{a="x",b="y"}' -> {"a": "x", ...}; raises ValueError."""
    out = {}
    if not s:
        return out
    if not (s.startswith("{") and s.endswith("}")):
        raise ValueError("labels not in braces")
    body, i = s[1:-1], 0
    while i < len(body):
        m = re.compile(LNAME + r'="').match(body, i)
        if not m:
            raise ValueError("bad label at %r" % body[i:])
        name = body[i:m.end() - 2]
        i, val = m.end(), ""
        while True:
            if i >= len(body):
                raise ValueError("unterminated label value")
            ch = body[i]
            if ch == "\\":
                if i + 1 >= len(body) or body[i + 1] not in '\\"n':
                    raise ValueError("bad escape in label value")
                val += {"\\": "\\", '"': '"', "n": "\n"}[body[i + 1]]
                i += 2
            elif ch == '"':
                i += 1
                break
            elif ch == "\n":
                raise ValueError("newline in label value")
            else:
                val += ch
                i += 1
        if name in out:
            raise ValueError("label %s twice" % name)
        out[name] = val
        if i < len(body):
            if body[i] != ",":
                raise ValueError("expected ',' after a label")
            i += 1
    return out


def parse_value(v):
    if v in ("NaN", "+Inf", "-Inf", "Inf"):
        return float(v.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?", v):
        raise ValueError("bad value %r" % v)
    return float(v)


SAMPLE = re.compile(r"(%s)(\{[^\n]*\})? ([^ ]+)( -?\d+)?" % NAME)


def family_of(name, types):
    if name in types:
        return name
    for fam, t in types.items():
        for suf in SUFFIXES.get(t, ()):
            if name == fam + suf:
                return fam
    return None


def parse(text):
    """Validates the exposition; returns {(name, frozenset(labels)): value}."""
    series, types, helps, done, sampled, cur = {}, {}, set(), set(), set(), None
    if text and not text.endswith("\n"):
        fail("the exposition does not end with a newline")
    for no, line in enumerate(text.split("\n")[:-1] if text.endswith("\n") else
                              text.split("\n"), 1):
        if line == "":
            continue
        if line.startswith("#"):
            m = re.fullmatch(r"# (HELP|TYPE) (%s)(?: (.*))?" % NAME, line)
            if not m:
                if re.match(r"#\s*(HELP|TYPE)\b", line):
                    fail("line %d: malformed %r" % (no, line))
                continue
            kind, name, rest = m.group(1), m.group(2), m.group(3) or ""
            if name in sampled:
                fail("line %d: %s for %s after its samples" % (no, kind, name))
            if kind == "TYPE":
                if name in types:
                    fail("line %d: second TYPE for %s" % (no, name))
                if rest not in TYPES:
                    fail("line %d: unknown type %r" % (no, rest))
                types[name] = rest
            else:
                if name in helps:
                    fail("line %d: second HELP for %s" % (no, name))
                helps.add(name)
            if cur is not None and cur != name:
                done.add(cur)
            cur = name
            continue
        m = SAMPLE.fullmatch(line)
        if not m:
            fail("line %d: not a sample line `name{labels} value`: %r" % (no, line))
            continue
        name = m.group(1)
        try:
            labels = parse_labels(m.group(2) or "")
            value = parse_value(m.group(3))
        except ValueError as e:
            fail("line %d: %s: %r" % (no, e, line))
            continue
        fam = family_of(name, types)
        if fam is None:
            fail("line %d: sample %s has no # TYPE before it" % (no, name))
            fam = name
        if fam in done:
            fail("line %d: family %s's samples are not contiguous" % (no, fam))
        if cur is not None and cur != fam:
            done.add(cur)
        cur = fam
        sampled.add(fam)
        key = (name, frozenset(labels.items()))
        if key in series:
            fail("line %d: series %s%s appears twice" % (no, name, m.group(2) or ""))
        if types.get(fam) == "counter" and not value >= 0:
            fail("line %d: counter %s is %s" % (no, name, m.group(3)))
        series[key] = value
    return series


def lookup(series, expr):
    """Value of 'name{labels}' or 'sum(name)' (None if absent)."""
    m = re.fullmatch(r"sum\((%s)\)" % NAME, expr)
    if m:
        vals = [v for (n, _), v in series.items() if n == m.group(1)]
        return sum(vals) if vals else None
    m = re.fullmatch(r"(%s)(\{.*\})?" % NAME, expr)
    if not m:
        raise ValueError("bad series %r" % expr)
    key = (m.group(1), frozenset(parse_labels(m.group(2) or "").items()))
    return series.get(key)


def fmt(v):
    return "%d" % v if v == int(v) else "%g" % v


def check(series, expr):
    m = re.fullmatch(r"\s*(\S+)\s*(==|>=|<=)\s*(\S+)\s*", expr)
    if not m:
        fail("bad expression %r" % expr)
        return
    got, want = lookup(series, m.group(1)), float(m.group(3))
    if got is None:
        fail("%s: no such series (want %s %s)" % (m.group(1), m.group(2), m.group(3)))
        return
    ok = {"==": got == want, ">=": got >= want, "<=": got <= want}[m.group(2)]
    if ok:
        print("ok: %s (is %s)" % (expr, fmt(got)), file=sys.stderr)
    else:
        fail("%s: got %s" % (expr, fmt(got)))


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("check", "get"):
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[2]) as f:
        text = f.read()
    series = parse(text)
    if sys.argv[1] == "get":
        v = lookup(series, sys.argv[3])
        print("none" if v is None else fmt(v))
        return 0
    if not FAILS:
        print("ok: valid Prometheus text format (%d series)" % len(series), file=sys.stderr)
    for expr in sys.argv[3:]:
        check(series, expr)
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
