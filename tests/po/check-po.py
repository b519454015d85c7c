#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks Kiln's translations.

    check-po.py SOURCE_ROOT MSGFMT MSGINIT [XGETTEXT MSGMERGE]

po/LINGUAS must list exactly the po/LANG.po files there are, and every one of them must:
  - pass "msgfmt --check --check-accelerators=_": the same printf placeholders as the English
    text (count, types and order, or explicit %1$s positions), a valid header, and exactly one
    access key in a translation whose English text has one;
  - be complete: no untranslated and no fuzzy message;
  - name its language in its Language header, with the Plural-Forms that gettext knows for
    that language (msginit's), so that ngettext picks the right form.

With XGETTEXT and MSGMERGE, each translation is also compared with the messages the sources
have now (extracted as po/meson.build does): messages added or changed since the last
"meson compile kiln-update-po" are reported as a TODO, which does not fail the test, since
sources change more often than translators can follow.

The checker first proves on small catalogues of its own that it catches a wrong placeholder, a
fuzzy message and wrong plural forms. Output is TAP."""

import importlib.util
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def load_potfiles_checker():
    spec = importlib.util.spec_from_file_location('check_potfiles',
                                                  os.path.join(HERE, 'check-potfiles.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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

    def todo(self, ok, description, reason):
        self.n += 1
        if ok:
            print(f'ok {self.n} - {description}')
        else:
            print(f'not ok {self.n} - {description} # TODO {reason}')


def run(command, **kwargs):
    return subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          check=False, env=dict(os.environ, LC_ALL='C.UTF-8', LANGUAGE=''),
                          **kwargs)


def header_field(po_text, name):
    match = re.search(r'^"' + re.escape(name) + r': ([^"\\]*)(?:\\n)?"$', po_text, re.MULTILINE)
    return match.group(1).strip() if match else None


def expected_plural_forms(msginit, language):
    """The Plural-Forms header that msginit writes for LANGUAGE."""
    with tempfile.TemporaryDirectory() as tmp:
        pot = os.path.join(tmp, 'x.pot')
        with open(pot, 'w', encoding='utf-8') as f:
            f.write('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n')
        made = run([msginit, '--no-translator', '--locale', language, '--input', pot,
                    '--output-file', os.path.join(tmp, 'x.po')])
        if made.returncode != 0:
            return None
        with open(os.path.join(tmp, 'x.po'), encoding='utf-8') as f:
            return header_field(f.read(), 'Plural-Forms')


def statistics(text):
    """(translated, fuzzy, untranslated) from msgfmt --statistics."""
    counts = []
    for word in ('translated', 'fuzzy', 'untranslated'):
        match = re.search(r'(\d+) ' + word + r' (?:message|translation)', text)
        counts.append(int(match.group(1)) if match else 0)
    return tuple(counts)


def problems(path, msgfmt, msginit):
    """What is wrong with the translation at PATH, as a list of sentences."""
    found = []
    language = os.path.basename(path)[:-len('.po')]
    checked = run([msgfmt, '--check', '--check-accelerators=_', '--statistics',
                   '--output-file', os.devnull, path])
    said = checked.stderr.strip()
    if checked.returncode != 0:
        found.append(f'msgfmt --check fails:\n{said}')
    translated, fuzzy, untranslated = statistics(said)
    if fuzzy or untranslated:
        found.append(f'{fuzzy} fuzzy and {untranslated} untranslated messages '
                     f'({translated} translated)')
    elif translated == 0 and checked.returncode == 0:
        found.append('no message is translated')

    with open(path, encoding='utf-8') as f:
        text = f.read()
    if header_field(text, 'Language') != language:
        found.append(f'the Language header is {header_field(text, "Language")!r}, '
                     f'not {language!r}')
    plural = header_field(text, 'Plural-Forms')
    expected = expected_plural_forms(msginit, language)
    if expected is not None and (plural or '').replace(' ', '') != expected.replace(' ', ''):
        found.append(f'Plural-Forms is {plural!r}; gettext has {expected!r} for {language}')
    return found


def self_test(tap, msgfmt, msginit):
    header = ('msgid ""\nmsgstr ""\n"Language: {lang}\\n"\n'
              '"Content-Type: text/plain; charset=UTF-8\\n"\n'
              '"Plural-Forms: {plural}\\n"\n\n')
    good = ('#, c-format\nmsgid "%s has %u files"\nmsgstr "%1$s hat %2$u Dateien"\n\n'
            '#, c-format\nmsgid "%u core"\nmsgid_plural "%u cores"\n'
            'msgstr[0] "%u Kern"\nmsgstr[1] "%u Kerne"\n\n'
            'msgid "_Save"\nmsgstr "_Speichern"\n')
    german = header.format(lang='de', plural='nplurals=2; plural=(n != 1);')
    cases = [
        ('a correct catalogue passes', german + good, []),
        ('a placeholder of another type is caught', german +
         good.replace('%1$s hat %2$u', '%1$s hat %2$s'), ['msgfmt --check']),
        ('a missing access key is caught', german + good.replace('"_Speichern"', '"Speichern"'),
         ['msgfmt --check']),
        ('a fuzzy message is caught', german + good.replace('msgid "_Save"',
                                                            '#, fuzzy\nmsgid "_Save"'),
         ['fuzzy']),
        ('an untranslated message is caught', german + good.replace('"_Speichern"', '""'),
         ['untranslated']),
        ('wrong plural forms are caught',
         header.format(lang='de', plural='nplurals=1; plural=0;') +
         good.replace('msgstr[1] "%u Kerne"\n', ''), ['Plural-Forms']),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'de.po')
        for description, text, expected in cases:
            with open(path, 'w', encoding='utf-8') as f:
                f.write(text)
            found = problems(path, msgfmt, msginit)
            caught = all(any(e in p for p in found) for e in expected)
            tap.check(caught and (bool(found) == bool(expected)), f'self-test: {description}',
                      found or ['nothing was found'])


def fresh_template(root, xgettext, tmp):
    """The messages the sources have now, as po/meson.build's kiln-pot extracts them."""
    checker = load_potfiles_checker()
    pot = os.path.join(tmp, 'kiln.pot')
    made = run([xgettext, '--package-name=kiln', '--directory', root,
                '--files-from', os.path.join(root, 'po', 'POTFILES.in'), '--output', pot] +
               checker.XGETTEXT_ARGS)
    return pot if made.returncode == 0 else None


def main():
    if len(sys.argv) not in (4, 6):
        print(__doc__, file=sys.stderr)
        return 2
    root, msgfmt, msginit = sys.argv[1:4]
    xgettext, msgmerge = sys.argv[4:6] if len(sys.argv) == 6 else (None, None)
    tap = Tap()
    self_test(tap, msgfmt, msginit)

    po_dir = os.path.join(root, 'po')
    with open(os.path.join(po_dir, 'LINGUAS'), encoding='utf-8') as f:
        linguas = [w for line in f if not line.strip().startswith('#') for w in line.split()]
    files = sorted(f[:-3] for f in os.listdir(po_dir) if f.endswith('.po'))
    tap.check(sorted(linguas) == files and len(set(linguas)) == len(linguas),
              f'po/LINGUAS lists every translation once ({" ".join(sorted(linguas))})',
              [f'LINGUAS: {linguas}', f'.po files: {files}'])

    for language in linguas:
        path = os.path.join(po_dir, language + '.po')
        if not os.path.isfile(path):
            continue
        found = problems(path, msgfmt, msginit)
        tap.check(not found, f'{language}.po is complete and correct', found)

    if xgettext and msgmerge:
        with tempfile.TemporaryDirectory() as tmp:
            pot = fresh_template(root, xgettext, tmp)
            for language in linguas:
                path = os.path.join(po_dir, language + '.po')
                if pot is None or not os.path.isfile(path):
                    continue
                merged = os.path.join(tmp, language + '.po')
                run([msgmerge, '--quiet', '--output-file', merged, path, pot])
                stats = run([msgfmt, '--statistics', '--output-file', os.devnull, merged])
                _, fuzzy, untranslated = statistics(stats.stderr)
                tap.todo(fuzzy + untranslated == 0,
                         f'{language}.po has every message of the current sources',
                         f'{untranslated} new and {fuzzy} changed messages: run "meson compile '
                         f'kiln-update-po" in the build directory, then translate them')
    print(f'1..{tap.n}')
    return 1 if tap.failed else 0


if __name__ == '__main__':
    sys.exit(main())
