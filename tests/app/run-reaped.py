#!/usr/bin/python3
# run-reaped.py DIR COMMAND [ARGS...]: runs COMMAND in a process group of its own, as a shell
# runs a job typed at its prompt, and tells what COMMAND leaves behind when it ends.
#
# This program is a child subreaper (PR_SET_CHILD_SUBREAPER): whatever COMMAND starts, however
# deep, and whatever of that outlives its parent, is reparented here instead of to init. So
# once COMMAND has exited, every process still alive that is a child of this program is one
# COMMAND left behind (a program that a double fork sent to init on purpose would still be
# caught: it is reparented here first).
#
# Writes to DIR: "pid", COMMAND's process ID (which is also its process group ID), as soon as it
# started; once it exited, "orphaned", one "PID COMMAND-LINE" line per process that outlived
# it, then after a grace period of 5 seconds "left", those of them still alive (neither file has
# a line when none), and last "status" (its exit status, or 128 + the signal that ended it).
# What was left is then killed (SIGKILL) and reaped, so that nothing outlives this program
# either. SIGINT,
# SIGTERM and SIGHUP sent to this program are passed on to COMMAND's process group. Exits with
# COMMAND's status.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import ctypes
import os
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
GRACE_SECONDS = 5


def write(directory, name, text):
    path = os.path.join(directory, name)
    with open(path + '.tmp', 'w') as f:
        f.write(text)
    os.rename(path + '.tmp', path)


def children_of(pid):
    """The live (not zombie) children of @pid, as (pid, command line) pairs."""
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as f:
                stat = f.read()
            with open('/proc/%s/cmdline' % entry, 'rb') as f:
                cmdline = f.read()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces and parentheses itself.
        fields = stat[stat.rindex(')') + 2:].split()
        state, ppid = fields[0], int(fields[1])
        if ppid == pid and state not in ('Z', 'X'):
            text = cmdline.replace(b'\0', b' ').decode('utf-8', 'replace').strip()
            found.append((int(entry), text or '[%s]' % stat[stat.index('(') + 1:
                                                            stat.rindex(')')]))
    return found


def reap_all():
    """Reaps every child that has exited, without waiting."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main():
    if len(sys.argv) < 3:
        print('usage: run-reaped.py DIR COMMAND [ARGS...]', file=sys.stderr)
        return 2
    directory = sys.argv[1]
    argv = sys.argv[2:]

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print('run-reaped.py: cannot become a subreaper: %s' %
              os.strerror(ctypes.get_errno()), file=sys.stderr)
        return 1

    child = os.fork()
    if child == 0:
        try:
            os.setpgid(0, 0)
            # As a shell starts a job: with the signals' default dispositions, whatever this
            # program inherited (a non-interactive shell's background job ignores SIGINT and
            # SIGQUIT) or Python set (it ignores SIGPIPE and SIGXFSZ).
            for signum in (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP,
                           signal.SIGPIPE, signal.SIGXFSZ):
                signal.signal(signum, signal.SIG_DFL)
            os.execvp(argv[0], argv)
        except OSError as error:
            print('run-reaped.py: cannot run %s: %s' % (argv[0], error), file=sys.stderr)
        os._exit(127)
    try:
        os.setpgid(child, child)
    except OSError:
        pass   # the child did it first, or already ran exec
    write(directory, 'pid', '%d\n' % child)

    def pass_on(signum, frame):
        try:
            os.killpg(child, signum)
        except OSError:
            pass
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, pass_on)

    # Waits for COMMAND, reaping whatever of its descendants was reparented here meanwhile.
    status = None
    while status is None:
        try:
            pid, wait_status = os.waitpid(-1, 0)
        except InterruptedError:
            continue
        except ChildProcessError:
            break
        if pid == child:
            status = os.waitstatus_to_exitcode(wait_status)
            if status < 0:
                status = 128 - status

    # What was still there when COMMAND ended, and what of it is still there after a grace
    # period: a process that its parent's end is ending (such as bwrap --die-with-parent) takes
    # a moment to go.
    orphaned = children_of(os.getpid())
    write(directory, 'orphaned', ''.join('%d %s\n' % entry for entry in orphaned))
    deadline = time.monotonic() + GRACE_SECONDS
    left = orphaned
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        reap_all()
        left = children_of(os.getpid())
    write(directory, 'left', ''.join('%d %s\n' % entry for entry in left))
    write(directory, 'status', '%d\n' % status)

    # Nothing outlives this program: what was left is ended (with its own children, which
    # come back here as their parents die) and reaped.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        remaining = children_of(os.getpid())
        if not remaining:
            break
        for pid, _ in remaining:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.1)
        reap_all()
    reap_all()
    return status


if __name__ == '__main__':
    sys.exit(main())
