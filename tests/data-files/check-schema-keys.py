#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks Kiln's GSettings schema against the keys the app is written for.

    check-schema-keys.py GSETTINGS SCHEMA.gschema.xml

The source XML must describe every key with a summary and a description in the "kiln"
gettext domain. The compiled schema is then read back through GSETTINGS (the gsettings
tool) from GSETTINGS_SCHEMA_DIR, as the app finds it when it runs uninstalled, and every
key must have exactly the type and default below. Output is TAP."""

import subprocess
import sys
import xml.etree.ElementTree as ET

SCHEMA_ID = 'io.github.kilnapp.Kiln'
SCHEMA_PATH = '/io/github/kilnapp/Kiln/'
ENUM_ID = 'io.github.kilnapp.Kiln.NetworkPreset'
ENUM_VALUES = {'devnet': 0, 'sepolia': 1, 'mainnet': 2, 'polygon': 3, 'custom': 4}

# key: (output of "gsettings range", output of "gsettings get" with the memory backend)
EXPECTED = {
    'account': ('type s', "''"),
    'data-dir': ('type s', "''"),
    'network-preset': ('enum\n' + '\n'.join(f"'{n}'" for n in ENUM_VALUES), "'devnet'"),
    'custom-rpc-url': ('type s', "''"),
    'custom-chain-id': ('type t', 'uint64 0'),
    'custom-token-address': ('type s', "''"),
    'window-width': ('type i', '960'),
    'window-height': ('type i', '680'),
    'window-maximized': ('type b', 'false'),
    'lending-enabled': ('type b', 'false'),
    'lending-cores': ('range u 0 1024', 'uint32 0'),
    'lending-memory-mib': ('range u 0 16777216', 'uint32 0'),
    'lending-disk-mib': ('range u 0 1073741824', 'uint32 10240'),
    'lending-min-price': ('type s', "'0'"),
    'lending-schedule': ('type (uuu)', '(uint32 127, uint32 0, uint32 0)'),
    'lending-idle-delay': ('range u 1 1440', 'uint32 5'),
    'lending-cpu-threshold': ('range u 0 100', 'uint32 30'),
    'lending-on-battery': ('type b', 'false'),
    'run-in-background': ('type b', 'true'),
    'start-on-login': ('type b', 'false'),
    'network-listen-address': ('type s', "''"),
    'network-listen-port': ('type q', 'uint16 4747'),
    'network-bootstrap': ('type as', '@as []'),
    'network-lan': ('type b', 'false'),
}


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, ok, name, why=''):
        self.n += 1
        if ok:
            print(f'ok {self.n} - {name}')
        else:
            self.failed += 1
            print(f'not ok {self.n} - {name}: {why}')


def gsettings(tool, *args):
    result = subprocess.run([tool, *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip() or f'gsettings {" ".join(args)} failed')
    return result.stdout.strip()


def check_source(tap, path):
    root = ET.parse(path).getroot()
    tap.check(root.get('gettext-domain') == 'kiln', 'source: gettext domain is kiln',
              f'gettext-domain="{root.get("gettext-domain")}"')

    enums = {e.get('id'): e for e in root.findall('enum')}
    enum = enums.get(ENUM_ID)
    values = {} if enum is None else {v.get('nick'): int(v.get('value'))
                                      for v in enum.findall('value')}
    tap.check(values == ENUM_VALUES, f'source: {ENUM_ID} values', f'found {values}')

    schemas = {s.get('id'): s for s in root.findall('schema')}
    schema = schemas.get(SCHEMA_ID)
    tap.check(schema is not None and schema.get('path') == SCHEMA_PATH,
              f'source: schema {SCHEMA_ID} at {SCHEMA_PATH}',
              'missing' if schema is None else f'path is {schema.get("path")}')
    if schema is None:
        return
    undescribed = []
    for key in schema.findall('key'):
        for tag in ('summary', 'description'):
            el = key.find(tag)
            if el is None or not (el.text or '').strip() or el.get('translatable') == 'no':
                undescribed.append(f'{key.get("name")} ({tag})')
    tap.check(not undescribed, 'source: every key has a translatable summary and description',
              ', '.join(undescribed))


def check_compiled(tap, tool):
    try:
        keys = set(gsettings(tool, 'list-keys', SCHEMA_ID).split())
    except RuntimeError as e:
        tap.check(False, 'compiled: schema found through GSETTINGS_SCHEMA_DIR', str(e))
        return
    tap.check(keys == set(EXPECTED), 'compiled: exactly the expected keys',
              f'missing {sorted(set(EXPECTED) - keys)}, unexpected {sorted(keys - set(EXPECTED))}')
    for key, (expected_range, expected_default) in EXPECTED.items():
        try:
            found_range = gsettings(tool, 'range', SCHEMA_ID, key)
            found_default = gsettings(tool, 'get', SCHEMA_ID, key)
        except RuntimeError as e:
            tap.check(False, f'compiled: {key}', str(e))
            continue
        tap.check((found_range, found_default) == (expected_range, expected_default),
                  f'compiled: {key} defaults to {expected_default}',
                  f'found range {found_range!r} and default {found_default!r}, '
                  f'expected {expected_range!r} and {expected_default!r}')


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    tool, source = argv[1], argv[2]
    tap = Tap()
    check_source(tap, source)
    check_compiled(tap, tool)
    print(f'1..{tap.n}')
    return 1 if tap.failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
