#!/usr/bin/python3
# lent-render.py: the Blender processes the app runs for lent work, read from /proc.
#
# A render's processes are Blender processes descending from the app (the sandbox's
# bubblewrap and what it starts are in between).
#
#   lent-render.py running PID    succeeds while PID has a Blender render that runs
#   lent-render.py stopped PID    succeeds while PID has a Blender render, all of it stopped
#   lent-render.py pause PID      tells the test idle monitor (idle-monitor.py) that the
#                                 person is back, then prints how many milliseconds passed
#                                 until every process of the render was stopped (SIGSTOP);
#                                 fails after 5 s
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import sys
import time

from gi.repository import Gio, GLib

GIVE_UP_S = 5.0


def processes():
    """pid -> (ppid, state, comm) of every process."""
    table = {}
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % name) as f:
                stat = f.read()
        except OSError:
            continue
        # "pid (comm) state ppid …", comm may hold spaces and parentheses.
        comm = stat[stat.index('(') + 1:stat.rindex(')')]
        fields = stat[stat.rindex(')') + 2:].split()
        table[int(name)] = (int(fields[1]), fields[0], comm)
    return table


def render_states(root):
    """The states of the Blender processes descending from @root."""
    table = processes()
    states = []
    for pid, (ppid, state, comm) in table.items():
        if not comm.startswith('blender'):
            continue
        parent = ppid
        while parent > 1 and parent != root:
            parent = table.get(parent, (0,))[0]
        if parent == root:
            states.append(state)
    return states


def user_active():
    bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    bus.call_sync('org.gnome.Mutter.IdleMonitor', '/io/github/kilnapp/Kiln/Test/IdleMonitor',
                  'io.github.kilnapp.Kiln.Test.IdleMonitor', 'UserActive', None, None,
                  Gio.DBusCallFlags.NONE, 5000, None)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ('running', 'stopped', 'pause'):
        print('usage: lent-render.py running|stopped|pause PID', file=sys.stderr)
        return 2
    root = int(sys.argv[2])

    if sys.argv[1] == 'running':
        return 0 if any(s != 'T' for s in render_states(root)) else 1
    if sys.argv[1] == 'stopped':
        states = render_states(root)
        return 0 if states and all(s == 'T' for s in states) else 1

    if not render_states(root):
        print('lent-render: no render to pause', file=sys.stderr)
        return 1
    start = time.monotonic()
    user_active()
    while time.monotonic() - start < GIVE_UP_S:
        states = render_states(root)
        if not states:
            print('lent-render: the render ended before it was stopped', file=sys.stderr)
            return 1
        if all(s == 'T' for s in states):
            print('%d' % round((time.monotonic() - start) * 1000))
            return 0
        time.sleep(0.005)
    print('lent-render: the render still runs %.0f s after the person came back' % GIVE_UP_S,
          file=sys.stderr)
    return 1


if __name__ == '__main__':
    sys.exit(main())
