#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks the kiln-node.service user unit.

    check-systemd-unit.py UNIT KILN_NODE MAN_PAGE

The unit, as meson configured it for installation, must run "kiln-node run" with the data
folder under %h/.local/share/kiln and the password from a systemd credential, and kiln-node
must accept that command line and, run the way the user manager runs it, come up and stop
cleanly on SIGTERM. With systemd-analyze, the unit must also pass
"systemd-analyze verify --user" without a word: it runs on a copy whose ExecStart names the
kiln-node just built (the installed path does not exist yet), with the manual page of
Documentation= where man finds it. The checker first proves that verify catches a broken
copy. Output is TAP."""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ENGLISH = dict(os.environ, LC_ALL='C.UTF-8', LANGUAGE='', LANG='C.UTF-8')


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, ok, description, details=()):
        self.n += 1
        if not ok:
            self.failed += 1
        print(f'{"ok" if ok else "not ok"} {self.n} - {description}')
        if not ok:
            for detail in details:
                for line in str(detail).splitlines():
                    print(f'# {line}')

    def skip(self, description, reason):
        self.n += 1
        print(f'ok {self.n} - {description} # SKIP {reason}')


def exec_start(text):
    """The unit's ExecStart= command line, continuation lines joined."""
    joined = re.sub(r'\\\n', ' ', text)
    match = re.search(r'^ExecStart=(.*)$', joined, re.MULTILINE)
    return match.group(1).split() if match else []


def verify(unit_text, name, man_page, tmp):
    """What "systemd-analyze verify --user" says about UNIT_TEXT saved as NAME, and its status."""
    units = os.path.join(tmp, 'units')
    runtime = os.path.join(tmp, 'runtime')
    man_dir = os.path.join(tmp, 'man', 'man1')
    for directory in (units, runtime, man_dir):
        os.makedirs(directory, mode=0o700, exist_ok=True)
    shutil.copy(man_page, os.path.join(man_dir, os.path.basename(man_page)))
    path = os.path.join(units, name)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(unit_text)
    env = dict(ENGLISH, XDG_RUNTIME_DIR=runtime, MANPATH=os.path.join(tmp, 'man'),
               SYSTEMD_LOG_COLOR='0', SYSTEMD_PAGER='')
    run = subprocess.run(['systemd-analyze', 'verify', '--user', path], env=env, cwd=units,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         check=False)
    return run.returncode, run.stdout.strip()


def run_service(argv, kiln_node, timeout=60):
    """Runs ARGV as the unit would, until kiln-node peers reaches it, then stops it with
    SIGTERM. Returns (whether all went well, what to report otherwise)."""
    with tempfile.TemporaryDirectory() as tmp:
        home = os.path.join(tmp, 'home')
        credentials = os.path.join(tmp, 'credentials')
        runtime = os.path.join(tmp, 'runtime')
        for directory in (home, credentials, runtime):
            os.makedirs(directory, mode=0o700)
        with open(os.path.join(credentials, 'password'), 'w', encoding='utf-8') as f:
            f.write('a password for this test\n')
        env = dict(ENGLISH, HOME=home, XDG_RUNTIME_DIR=runtime,
                   XDG_DATA_HOME=os.path.join(home, '.local', 'share'),
                   XDG_CONFIG_HOME=os.path.join(home, '.config'))
        data_dir = os.path.join(home, '.local', 'share', 'kiln')
        made = subprocess.run([kiln_node, 'identity', 'create', '--light',
                               '--data-dir', data_dir, '--password-file',
                               os.path.join(credentials, 'password')],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, check=False)
        if made.returncode != 0:
            return False, ['kiln-node identity create failed:', made.stdout]

        command = [kiln_node]
        for arg in argv[1:]:
            if arg == '$KILN_NODE_OPTIONS':
                command.append('--listen=127.0.0.1:0')
            else:
                command.append(arg.replace('%h', home).replace('%d', credentials))
        log = os.path.join(tmp, 'node.log')
        with open(log, 'w', encoding='utf-8') as out:
            node = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            answered = False
            while time.monotonic() < deadline and node.poll() is None:
                peers = subprocess.run([kiln_node, 'peers', '--data-dir', data_dir], env=env,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       text=True, check=False)
                if peers.returncode == 0:
                    answered = True
                    break
                time.sleep(0.1)
            node.send_signal(signal.SIGTERM)
            status = node.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            node.kill()
            node.wait()
            status = 'none: it did not stop within %d s of SIGTERM' % timeout
        with open(log, encoding='utf-8') as f:
            said = f.read()
    details = [f'{" ".join(command)}', f'exit status {status}', said]
    return answered and status == 0, details


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    unit, kiln_node, man_page = sys.argv[1:]
    tap = Tap()
    with open(unit, encoding='utf-8') as f:
        text = f.read()

    argv = exec_start(text)
    tap.check(len(argv) >= 2 and os.path.isabs(argv[0]) and
              os.path.basename(argv[0]) == 'kiln-node' and argv[1] == 'run',
              'ExecStart runs "kiln-node run" by its absolute path', [f'ExecStart: {argv}'])
    tap.check('--data-dir=%h/.local/share/kiln' in argv,
              'the data folder is %h/.local/share/kiln', [f'ExecStart: {argv}'])
    credential = re.search(r'^LoadCredential=password:(\S+)$', text, re.MULTILINE)
    tap.check(credential is not None and '--password-file=%d/password' in argv,
              'the password comes from the "password" credential, read from a file',
              [f'ExecStart: {argv}', f'LoadCredential: {credential}'])
    tap.check(re.search(r'^Documentation=man:kiln-node\(1\)$', text, re.MULTILINE) is not None,
              'Documentation= names kiln-node(1)')

    # The command line as the service manager passes it, with its specifiers filled in,
    # and --help: kiln-node must know the command and every option, without running a node.
    with tempfile.TemporaryDirectory() as home:
        filled = [a.replace('%h', home).replace('%d', os.path.join(home, 'credentials'))
                  for a in argv[1:] if a != '$KILN_NODE_OPTIONS']
        run = subprocess.run([kiln_node] + filled + ['--help'], env=ENGLISH,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             check=False)
    tap.check(run.returncode == 0 and 'kiln-node run' in run.stdout,
              'kiln-node accepts the unit\'s command line',
              [f'kiln-node {" ".join(filled)} --help exited with {run.returncode}:',
               run.stdout.strip()])

    # The service as the user manager runs it, with a listening address the way node.env adds
    # options: it must come up (kiln-node peers reaches it) and stop cleanly on SIGTERM, as
    # "systemctl --user stop" sends it.
    ok, details = run_service(argv, kiln_node)
    tap.check(ok, 'the unit\'s command runs a node that stops cleanly on SIGTERM', details)

    if not shutil.which('systemd-analyze'):
        tap.skip('systemd-analyze verify --user accepts the unit', 'no systemd-analyze')
        print(f'1..{tap.n}')
        return 1 if tap.failed else 0

    local = re.sub(r'^(ExecStart=)\S+', lambda m: m.group(1) + os.path.abspath(kiln_node),
                   text, count=1, flags=re.MULTILINE)
    name = os.path.basename(unit)
    with tempfile.TemporaryDirectory() as tmp:
        status, said = verify(local.replace('%d/password', '%Q/password'), name, man_page, tmp)
        tap.check(status != 0 and 'specifier' in said,
                  'self-test: verify rejects a unit with an unknown specifier', [status, said])
    with tempfile.TemporaryDirectory() as tmp:
        status, said = verify(local, name, man_page, tmp)
    tap.check(status == 0 and said == '', 'systemd-analyze verify --user accepts the unit',
              [f'exit status {status}', said])
    print(f'1..{tap.n}')
    return 1 if tap.failed else 0


if __name__ == '__main__':
    sys.exit(main())
