#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Finds text left in English in a translated window.

    atspi-dump.py kiln | check-untranslated.py LANG.po

Reads an accessible tree, one "ROLE<TAB>NAME" line per node (tests/app/atspi-dump.py), and
prints every name that is the English text of a message LANG.po translates differently:
text that was shown without going through the translation. A message's English text matches
with its printf placeholders standing for anything, its access key underscore dropped and its
markup removed, as GTK shows it; messages that are mostly placeholders, or whose translation
is the English text itself (such as "Kiln"), match nothing. Exits 1 when it prints anything.

    check-untranslated.py --self-test LANG.po

checks the matching on names made up from LANG.po's own messages."""

import html
import re
import sys

# A printf conversion (with an optional %N$ position), or a strftime one such as %H or %-d.
DIRECTIVE = re.compile(r'%(?:\d+\$)?[-+ #0]*\d*(?:\.\d+)?(?:hh|h|ll|l|z|j|t|L)?[A-Za-z]')
ROLES_NOT_CHECKED = {'text', 'entry', 'password text', 'text box', 'spin button'}


def unquote(s):
    return re.sub(r'\\(.)', lambda m: {'n': '\n', 't': '\t'}.get(m.group(1), m.group(1)),
                  s.strip()[1:-1])


def read_po(path):
    """[(msgid, msgstr)] of the catalogue, plural forms as separate pairs."""
    with open(path, encoding='utf-8') as f:
        blocks = f.read().split('\n\n')
    pairs = []
    for block in blocks:
        fields = {}
        current = None
        for line in block.splitlines():
            match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (".*")$', line)
            if match:
                current = match.group(1)
                fields[current] = unquote(match.group(2))
            elif line.startswith('"') and current:
                fields[current] += unquote(line)
        if not fields.get('msgid') or '#, fuzzy' in block:
            continue
        translations = [v for k, v in fields.items() if k.startswith('msgstr') and v]
        if not translations:
            continue
        pairs.append((fields['msgid'], translations[0]))
        if 'msgid_plural' in fields:
            pairs.append((fields['msgid_plural'], translations[-1]))
    return pairs


def shown(text):
    """TEXT as a GtkLabel shows it: markup removed, access key underscores dropped."""
    text = html.unescape(re.sub(r'<[^>]+>', '', text))
    return re.sub(r'_(.)', r'\1', text)


def pattern(msgid):
    """A regular expression for what the window shows of MSGID, or None when it would match
    nearly anything."""
    text = shown(msgid).replace('%%', '\x00')
    literal = DIRECTIVE.sub('', text)
    if len(re.findall(r'[A-Za-z]', literal)) < 2:
        return None
    parts = []
    last = 0
    for match in DIRECTIVE.finditer(text):
        parts.append(re.escape(text[last:match.start()]))
        parts.append('.+?')
        last = match.end()
    parts.append(re.escape(text[last:]))
    return re.compile(''.join(parts).replace('\x00', '%').replace('\\\x00', '%') + r'\Z',
                      re.DOTALL)


def english_patterns(pairs):
    patterns = []
    for msgid, msgstr in pairs:
        if shown(msgid).strip() == shown(msgstr).strip():
            continue
        compiled = pattern(msgid.strip())
        if compiled is not None:
            patterns.append((msgid, compiled))
    return patterns


def leftovers(lines, patterns):
    found = []
    for line in lines:
        role, _, name = line.rstrip('\n').partition('\t')
        name = name.strip()
        if not name or role in ROLES_NOT_CHECKED:
            continue
        for msgid, compiled in patterns:
            if compiled.match(name):
                found.append(f'{role} “{name}” is the English of “{msgid}”')
                break
    return found


def self_test(path):
    pairs = read_po(path)
    patterns = english_patterns(pairs)
    failures = []
    by_id = dict(pairs)
    samples = {
        'label\tCopy Address': True,
        'label\tCreate a New Account': True,              # from "_Create a New Account"
        'label\tFrom 0x2c7536E3605D9C16a7a3D7b1898e529396a65c23': True,   # "From %s"
        'label\tKiln': False,                              # the same in every language
        'text\tCopy Address': False,                       # typed text is not checked
        'label\t0x2c75…5c23': False,
        f'label\t{shown(by_id.get("Copy Address", "x"))}': False,
    }
    for line, english in samples.items():
        if bool(leftovers([line], patterns)) != english:
            failures.append(f'{line!r}: expected {"English" if english else "not English"}')
    for failure in failures:
        print(failure)
    return 1 if failures else 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == '--self-test':
        return self_test(sys.argv[2])
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    found = leftovers(sys.stdin.readlines(), english_patterns(read_po(sys.argv[1])))
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main())
