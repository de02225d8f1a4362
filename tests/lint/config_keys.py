#!/usr/bin/env python3
"""Every configuration key the parser knows (src/config.c) is in the shipped
configuration (conf/remora.conf, as a setting or a commented-out example) and
in remora.conf(5), in the same section; and neither documents a key the
parser does not know.

  config_keys.py SRCROOT
"""
import re
import sys

root = sys.argv[1]
src = open(f"{root}/src/config.c").read()
conf = open(f"{root}/conf/remora.conf").read()
man = open(f"{root}/docs/man/remora.conf.5").read()

# parser: the keys each <section>_key() function compares "name" with
parser = {}
funcs = list(re.finditer(r"^static int (\w+)_key\(struct parse_ctx \*x, const char \*name",
                         src, re.M))
for i, m in enumerate(funcs):
    section = m.group(1)
    if section == "size":
        continue
    body = src[m.end():funcs[i + 1].start() if i + 1 < len(funcs) else len(src)]
    body = body.split("\n}\n", 1)[0]
    keys = set(re.findall(r'strcmp\(name, "([a-z0-9_]+)"\)', body))
    keys |= set(re.findall(r'^\t\t\{"([a-z0-9_]+)", K_', body, re.M))
    parser["listener NAME" if section == "listener" else section] = keys
# [acl] hands its domain-list keys to config_deny.c
deny = open(f"{root}/src/config_deny.c").read()
parser["acl"] |= set(re.findall(r'strcmp\(name, "([a-z0-9_]+)"\)', deny))


def ini_keys(text):
    out, section = {}, None
    for line in text.splitlines():
        s = line.strip()
        m = re.match(r"^\[(listener) [^\]]+\]$|^\[([a-z]+)\]$", s)
        if m:
            section = "listener NAME" if m.group(1) else m.group(2)
            out.setdefault(section, set())
            continue
        m = re.match(r"^;?([a-z][a-z0-9_]*) *=", s)
        if m and section:
            out[section].add(m.group(1))
    return out


def man_keys(text):
    out, section = {}, None
    for line in text.splitlines():
        if line.startswith(".SH"):
            m = re.match(r'^\.SH "\[(.+)\]"', line)
            section = m.group(1) if m else None
            if section:
                out.setdefault(section, set())
            continue
        m = re.match(r'^\.B[IR] ([a-z][a-z0-9_]*) " = "', line)
        if m and section:
            out[section].add(m.group(1))
    return out


fails = 0
for name, found in (("conf/remora.conf", ini_keys(conf)),
                    ("docs/man/remora.conf.5", man_keys(man))):
    for section, keys in sorted(parser.items()):
        have = found.get(section, set())
        for k in sorted(keys - have):
            print(f"FAIL: [{section}] {k}: known to the parser, missing from {name}")
            fails += 1
        for k in sorted(have - keys):
            print(f"FAIL: [{section}] {k}: in {name}, unknown to the parser")
            fails += 1
    for section in sorted(set(found) - set(parser)):
        print(f"FAIL: [{section}]: a section in {name} the parser does not know")
        fails += 1
n = sum(len(k) for k in parser.values())
print(f"{n} keys in {len(parser)} sections checked" if not fails else f"{fails} problem(s)")
sys.exit(1 if fails else 0)
