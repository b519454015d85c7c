#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks that po/POTFILES.in lists exactly what has translatable strings.

    check-potfiles.py SOURCE_ROOT [XGETTEXT]

Every file under src/ and data/ that marks a string for translation must be listed, or its
strings never reach translators:

  C sources and headers   _(), N_(), C_(), NC_(), Q_(), gettext(), ngettext() and the
                          g_d*gettext() calls, outside comments
  GtkBuilder .ui files    translatable="yes"
  desktop and metainfo    every *.desktop.in and *.metainfo.xml.in
  GSettings schemas       a <summary> or <description> in a schema with a gettext-domain

and every listed file must exist, once.

With XGETTEXT, the checker looks at something else: the listed C files are extracted the way
po/meson.build does it, and no message may be cut short. xgettext cannot see through a macro
such as G_GUINT64_FORMAT in the middle of a translatable string, so such a message reaches
translators as a fragment and is never translated; use PRIu64 and friends from <inttypes.h>,
which xgettext and msgfmt understand, or format the number into a string first.

The checker first proves on small trees of its own that it catches each of these mistakes.
Output is TAP."""

import os
import re
import subprocess
import sys
import tempfile

SCANNED_DIRS = ('src', 'data')
C_SUFFIXES = ('.c', '.h')
# The keywords of meson's glib preset plus xgettext's default C keywords.
C_CALL = re.compile(r'(?<![A-Za-z0-9_])'
                    r'(?:_|N_|C_|NC_|Q_|gettext|dgettext|dcgettext|ngettext|dngettext|'
                    r'dcngettext|pgettext|g_dgettext|g_dcgettext|g_dngettext|g_dpgettext|'
                    r'g_dpgettext2)\s*\(')
UI_TRANSLATABLE = re.compile(r'translatable\s*=\s*"(?:yes|true|1)"', re.IGNORECASE)
SCHEMA_DOMAIN = re.compile(r'<schemalist[^>]*\bgettext-domain\s*=')
SCHEMA_TEXT = re.compile(r'<(?:summary|description)\b')
# The options of meson's i18n "glib" preset (mesonbuild/modules/i18n.py).
XGETTEXT_ARGS = [
    '--from-code=UTF-8', '--add-comments',
    '--keyword=_', '--keyword=N_', '--keyword=C_:1c,2', '--keyword=NC_:1c,2',
    '--keyword=g_dcgettext:2', '--keyword=g_dngettext:2,3', '--keyword=g_dpgettext2:2c,3',
    '--flag=N_:1:pass-c-format', '--flag=C_:2:pass-c-format', '--flag=NC_:2:pass-c-format',
    '--flag=g_dngettext:2:pass-c-format', '--flag=g_strdup_printf:1:c-format',
    '--flag=g_string_printf:2:c-format', '--flag=g_string_append_printf:2:c-format',
    '--flag=g_error_new:3:c-format', '--flag=g_set_error:4:c-format',
    '--flag=g_markup_printf_escaped:1:c-format', '--flag=g_log:3:c-format',
    '--flag=g_print:1:c-format', '--flag=g_printerr:1:c-format',
    '--flag=g_printf:1:c-format', '--flag=g_fprintf:2:c-format',
    '--flag=g_sprintf:2:c-format', '--flag=g_snprintf:3:c-format',
]
CUT_SHORT = 'The string ends in the middle of a directive'


def strip_c_comments(text):
    """The code of a C file with its comments blanked out; string and character literals stay,
    so that "image/*" is not taken for the start of a comment."""
    out = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == '/' and text.startswith('/*', i):
            end = text.find('*/', i + 2)
            end = n if end < 0 else end + 2
            out.append(' ')
            i = end
        elif c == '/' and text.startswith('//', i):
            end = text.find('\n', i)
            end = n if end < 0 else end
            i = end
        elif c in '"\'':
            j = i + 1
            while j < n and text[j] != c and text[j] != '\n':
                j += 2 if text[j] == '\\' else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def has_translatable_strings(path):
    name = os.path.basename(path)
    if name.endswith('.desktop.in') or name.endswith('.metainfo.xml.in'):
        return True
    if not (name.endswith(C_SUFFIXES) or name.endswith('.ui') or name.endswith('.gschema.xml')):
        return False
    with open(path, encoding='utf-8', errors='replace') as f:
        text = f.read()
    if name.endswith(C_SUFFIXES):
        return C_CALL.search(strip_c_comments(text)) is not None
    if name.endswith('.ui'):
        return UI_TRANSLATABLE.search(text) is not None
    return SCHEMA_DOMAIN.search(text) is not None and SCHEMA_TEXT.search(text) is not None


def translatable_files(root):
    found = set()
    for top in SCANNED_DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames[:] = sorted(d for d in dirnames
                                 if not d.startswith('.') and d != 'node_modules')
            for filename in filenames:
                path = os.path.join(dirpath, filename)
                if os.path.isfile(path) and has_translatable_strings(path):
                    found.add(os.path.relpath(path, root))
    return found


def read_potfiles(root):
    entries = []
    with open(os.path.join(root, 'po', 'POTFILES.in'), encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith('#'):
                entries.append(line)
    return entries


# The first line of a comment for translators; xgettext keeps it only when it comes right
# before the line where the message's text starts.
TRANSLATOR_COMMENT = re.compile(r'/\* ((?:Translators|TRANSLATORS):.*?)(?:\*/)?$')


def problems(root, xgettext=None):
    """What is wrong with ROOT's po/POTFILES.in, as a dict from check to a list of details."""
    listed = read_potfiles(root)
    seen = set()
    result = {'missing-file': [], 'duplicate': [], 'unlisted': [], 'cut-short': [],
              'lost-comment': []}
    for entry in listed:
        if entry in seen:
            result['duplicate'].append(entry)
        seen.add(entry)
        if not os.path.isfile(os.path.join(root, entry)):
            result['missing-file'].append(entry)
    result['unlisted'] = sorted(translatable_files(root) - seen)
    if xgettext:
        sources = [e for e in sorted(seen) if e.endswith(C_SUFFIXES)
                   and os.path.isfile(os.path.join(root, e))]
        with tempfile.TemporaryDirectory() as tmp:
            pot = os.path.join(tmp, 'check.pot')
            run = subprocess.run([xgettext, '--language=C', '--output', pot,
                                  '--directory', root] + XGETTEXT_ARGS + sources,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True, check=False)
            pot_comments = set()
            if os.path.isfile(pot):
                with open(pot, encoding='utf-8') as f:
                    pot_comments = {line[3:].strip() for line in f if line.startswith('#. ')}
        if run.returncode != 0:
            result['cut-short'].append('xgettext failed: ' + run.stdout.strip())
        for entry in sources:
            with open(os.path.join(root, entry), encoding='utf-8') as f:
                for number, line in enumerate(f, 1):
                    match = TRANSLATOR_COMMENT.search(line)
                    if match and match.group(1).strip() not in pot_comments:
                        result['lost-comment'].append(f'{entry}:{number}')
        for line in run.stdout.splitlines():
            if CUT_SHORT in line:
                result['cut-short'].append(line.split(': warning:')[0])
    return result


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
                print(f'# {detail}')


def write(root, relpath, text):
    path = os.path.join(root, relpath)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)


def self_test(tap, xgettext):
    """Small trees with one mistake each: the checker must find exactly that mistake."""
    with tempfile.TemporaryDirectory() as root:
        if xgettext:
            write(root, 'src/a.c', 'void a (guint64 n) { g_print (_("Got %" G_GUINT64_FORMAT '
                                   '" items"), n); g_print (_("Got %" PRIu64 " things"), n); }\n')
            write(root, 'po/POTFILES.in', 'src/a.c\n')
            write(root, 'src/b.c', 'void b (void)\n{\n  /* Translators: kept */\n'
                                   '  g_print (_("Kept"));\n  /* Translators: lost */\n'
                                   '  g_print ("%s",\n           _("Lost"));\n}\n')
            write(root, 'po/POTFILES.in', 'src/a.c\nsrc/b.c\n')
            found = problems(root, xgettext)
            tap.check(found['lost-comment'] == ['src/b.c:5'],
                      'self-test: a comment for translators that xgettext does not keep is found',
                      [f'{k}: {v}' for k, v in found.items() if v])
            os.remove(os.path.join(root, 'src', 'b.c'))
            write(root, 'po/POTFILES.in', 'src/a.c\n')
            found = problems(root, xgettext)
            tap.check(found['cut-short'] == ['src/a.c:1'],
                      'self-test: a message cut short by a format macro is found '
                      '(and PRIu64 is accepted)',
                      [f'{k}: {v}' for k, v in found.items() if v])
            return

        write(root, 'src/a.c', 'static const char *s = N_("Hello");\n')
        write(root, 'src/b.c', '/* _("only in a comment") */\nint b = 1; /* "image/*" */\n')
        write(root, 'src/c.c', 'const char *mime = "image/*"; void f (void) { g_print (_("x")); }\n')
        write(root, 'src/d.ui', '<object><property name="label" translatable="yes">'
                                'Hi</property></object>\n')
        write(root, 'src/e.ui', '<object><property name="label">Hi</property></object>\n')
        write(root, 'src/f.c', 'void g (void) { foo_ (1); my_gettext_ (2); }\n')
        write(root, 'data/x.desktop.in', '[Desktop Entry]\nName=X\n')
        write(root, 'po/POTFILES.in', '# comment\nsrc/a.c\nsrc/c.c\nsrc/d.ui\n'
                                      'data/x.desktop.in\n')
        found = problems(root)
        tap.check(not any(found.values()),
                  'self-test: a complete list passes; comments and similar names are ignored',
                  [f'{k}: {v}' for k, v in found.items() if v])

        write(root, 'src/new.c', 'void h (void) { g_print ("%s", C_("ctx", "Bye")); }\n')
        write(root, 'src/new.ui', '<property name="title" translatable="yes">T</property>\n')
        found = problems(root)
        tap.check(found['unlisted'] == ['src/new.c', 'src/new.ui'],
                  'self-test: files with translatable strings that are not listed are found',
                  [f'{k}: {v}' for k, v in found.items() if v])
        os.remove(os.path.join(root, 'src', 'new.c'))
        os.remove(os.path.join(root, 'src', 'new.ui'))

        write(root, 'po/POTFILES.in', 'src/a.c\nsrc/c.c\nsrc/d.ui\ndata/x.desktop.in\n'
                                      'src/gone.c\nsrc/a.c\n')
        found = problems(root)
        tap.check(found['missing-file'] == ['src/gone.c'] and found['duplicate'] == ['src/a.c'],
                  'self-test: listed files that do not exist, and duplicates, are found',
                  [f'{k}: {v}' for k, v in found.items() if v])


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    root = sys.argv[1]
    xgettext = sys.argv[2] if len(sys.argv) == 3 else None

    tap = Tap()
    self_test(tap, xgettext)
    found = problems(root, xgettext)
    if xgettext:
        tap.check(not found['cut-short'],
                  'xgettext extracts every message whole (no format macro inside _())',
                  [f'{e}: a macro cuts this message short; use PRIu64/PRId64 from '
                   '<inttypes.h> or format the number into a string first'
                   for e in found['cut-short']])
        tap.check(not found['lost-comment'],
                  'every comment for translators reaches them',
                  [f'{e}: xgettext drops this comment; put it right before the line where '
                   'the message starts' for e in found['lost-comment']])
    else:
        tap.check(not found['missing-file'], 'every file in po/POTFILES.in exists',
                  [f'{e} is listed but does not exist' for e in found['missing-file']])
        tap.check(not found['duplicate'], 'no file is listed twice in po/POTFILES.in',
                  [f'{e} is listed more than once' for e in found['duplicate']])
        tap.check(not found['unlisted'],
                  'every file with translatable strings is in po/POTFILES.in',
                  [f'{e} has translatable strings; add it to po/POTFILES.in'
                   for e in found['unlisted']])
    print(f'1..{tap.n}')
    return 1 if tap.failed else 0


if __name__ == '__main__':
    sys.exit(main())
