#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks what --version prints.

    check-version.py VERSION PROGRAM...

Every PROGRAM (kiln, kiln-node) must print exactly "NAME VERSION" and a newline on standard
output for --version, nothing on standard error, and exit 0, without a display or a session
bus and whatever the language: scripts and packagers read that line. Output is TAP."""

import os
import subprocess
import sys


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    version = sys.argv[1]
    n = failed = 0
    for program in sys.argv[2:]:
        expected = f'{os.path.basename(program)} {version}\n'
        for language in ('', 'ko', 'de'):
            env = {k: v for k, v in os.environ.items()
                   if k not in ('DISPLAY', 'WAYLAND_DISPLAY', 'DBUS_SESSION_BUS_ADDRESS')}
            env.update(LANG='C.UTF-8', LANGUAGE=language)
            run = subprocess.run([program, '--version'], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, timeout=60, check=False)
            n += 1
            ok = run.returncode == 0 and run.stdout == expected and run.stderr == ''
            failed += not ok
            print(f'{"ok" if ok else "not ok"} {n} - {os.path.basename(program)} --version '
                  f'prints {expected.strip()!r} (LANGUAGE={language or "unset"})')
            if not ok:
                print(f'# exit status {run.returncode}, stdout {run.stdout!r}, '
                      f'stderr {run.stderr!r}')
    print(f'1..{n}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
