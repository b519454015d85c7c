#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks kiln-node's manual page against the program.

    check-man-page.py KILN_NODE MAN_PAGE

The page must render without a single warning from man (or groff, where man-db is missing),
and it must describe what the program offers: every command that "kiln-node --help" and the
command groups' --help list, as a section "kiln-node GROUP COMMAND", and every long option
that any command's --help prints. The checker first proves on broken pages of its own that it
catches a rendering mistake and a missing option. Output is TAP."""

import os
import re
import shutil
import subprocess
import sys
import tempfile

ENGLISH = dict(os.environ, LC_ALL='C.UTF-8', LANGUAGE='', LANG='C.UTF-8')
OPTION = re.compile(r'^\s+(?:-\w, )?--([a-z0-9][a-z0-9-]*)')
SECTION = re.compile(r'^\.SS\s+"?([^"\n]*)"?', re.MULTILINE)


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


def render_warnings(page):
    """What man (or groff) says while rendering PAGE: an empty string when all is well."""
    env = dict(ENGLISH, MANWIDTH='80', MAN_KEEP_FORMATTING='0')
    if shutil.which('man'):
        command = ['man', '--warnings', '-l', page]
    elif shutil.which('groff'):
        command = ['groff', '-ww', '-z', '-man', page]
    else:
        return None
    run = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True, check=False)
    complaint = run.stderr.strip()
    if run.returncode != 0 and not complaint:
        complaint = f'{command[0]} exited with status {run.returncode}'
    return complaint


def help_text(kiln_node, words):
    run = subprocess.run([kiln_node] + words + ['--help'], env=ENGLISH, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f'kiln-node {" ".join(words)} --help failed: {run.stdout.strip()}')
    return run.stdout


def subcommands(text):
    """The names under "Commands:" in a group's --help."""
    names = []
    in_commands = False
    for line in text.splitlines():
        if line.strip() == 'Commands:':
            in_commands = True
            continue
        if in_commands:
            match = re.match(r'^  (\S+)\s{2,}\S', line)
            if not match:
                break
            names.append(match.group(1))
    return names


def program_surface(kiln_node):
    """Every leaf command (as a list of words) and every long option some --help prints."""
    commands = []
    options = set()
    pending = [[]]
    while pending:
        words = pending.pop(0)
        text = help_text(kiln_node, words)
        options.update(m.group(1) for m in map(OPTION.match, text.splitlines()) if m)
        names = subcommands(text)
        if names:
            pending.extend(words + [name] for name in names)
        if words and not names:
            commands.append(words)
    options.discard('help')
    return commands, sorted(options)


def page_surface(page):
    with open(page, encoding='utf-8') as f:
        source = f.read()
    sections = {re.sub(r'\s+', ' ', s.replace('\\-', '-')).strip()
                for s in SECTION.findall(source)}
    options = set(re.findall(r'\\-\\-([a-z0-9][a-z0-9\\-]*)', source))
    options = {o.replace('\\-', '-').rstrip('-') for o in options}
    return sections, options


def missing_from_page(page, commands, options):
    sections, documented = page_surface(page)
    missing_commands = [' '.join(['kiln-node'] + c) for c in commands
                        if ' '.join(['kiln-node'] + c) not in sections]
    missing_options = [f'--{o}' for o in options if o not in documented]
    return missing_commands, missing_options


def self_test(tap, commands, options):
    with tempfile.TemporaryDirectory() as tmp:
        broken = os.path.join(tmp, 'broken.1')
        with open(broken, 'w', encoding='utf-8') as f:
            f.write('.TH BROKEN 1\n.SH NAME\nbroken \\- a page\n.XQ nothing\n'
                    'An unknown escape: \\[nosuchglyph].\n')
        complaint = render_warnings(broken)
        tap.check(bool(complaint), 'self-test: rendering warnings are caught',
                  [f'no complaint: {complaint!r}'])

        partial = os.path.join(tmp, 'partial.1')
        listed = ''.join(f'.SS "kiln\\-node {" ".join(c)}"\n' for c in commands[1:])
        described = ''.join(f'.B \\-\\-{o}\n' for o in options[1:])
        with open(partial, 'w', encoding='utf-8') as f:
            f.write('.TH PARTIAL 1\n' + listed + described)
        missing_commands, missing_options = missing_from_page(partial, commands, options)
        expected_command = ' '.join(['kiln-node'] + commands[0]) if commands else None
        tap.check(missing_commands == ([expected_command] if commands else []) and
                  missing_options == ([f'--{options[0]}'] if options else []),
                  'self-test: a command and an option missing from a page are caught',
                  [f'commands: {missing_commands}', f'options: {missing_options}'])


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    kiln_node, page = sys.argv[1:]
    tap = Tap()

    complaint = render_warnings(page)
    if complaint is None:
        print('1..0 # SKIP neither man nor groff is installed')
        return 77
    commands, options = program_surface(kiln_node)
    self_test(tap, commands, options)

    tap.check(complaint == '', 'man renders the page without warnings', [complaint])
    missing_commands, missing_options = missing_from_page(page, commands, options)
    tap.check(bool(commands) and not missing_commands,
              f'every command is described ({len(commands)} commands)',
              [f'{c} has no section ".SS \\"{c}\\"" in the page' for c in missing_commands])
    tap.check(bool(options) and not missing_options,
              f'every option is described ({len(options)} options)',
              [f'{o} is not in the page' for o in missing_options])
    print(f'1..{tap.n}')
    return 1 if tap.failed else 0


if __name__ == '__main__':
    sys.exit(main())
