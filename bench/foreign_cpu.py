#!/usr/bin/env python3
"""Prints the CPU time (clock ticks) used so far by processes that are not
part of the benchmark: every user-space process outside the process tree
rooted at PID (bench/run.sh itself), counting utime + stime + cutime + cstime,
so that foreign processes which exit and are reaped between two readings
still count (their time moves into their parent's cutime/cstime).

bench/run.sh reads it before and after a measurement: a difference above a
small threshold means something else was using the machine, and the
measurement is repeated.

usage: foreign_cpu.py PID
"""
import os
import sys

PF_KTHREAD = 0x00200000


def main():
    root = int(sys.argv[1])
    stats = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rindex(")") + 2:].split()
        # rest[0] = state (field 3); field N is rest[N - 3]
        ppid, flags = int(rest[1]), int(rest[6])
        ticks = int(rest[11]) + int(rest[12]) + int(rest[13]) + int(rest[14])
        stats[int(name)] = (ppid, flags, ticks)
    ours = {root}
    changed = True
    while changed:
        changed = False
        for pid, (ppid, _, _) in stats.items():
            if ppid in ours and pid not in ours:
                ours.add(pid)
                changed = True
    me = os.getpid()
    total = sum(t for pid, (_, flags, t) in stats.items()
                if pid not in ours and pid != me and not flags & PF_KTHREAD)
    print(total)


if __name__ == "__main__":
    main()
