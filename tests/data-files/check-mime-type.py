#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks that Blender scenes are application/x-blender, the type Kiln says it opens.

    check-mime-type.py DESKTOP_FILE METAINFO_FILE

Kiln ships no MIME definition of its own: shared-mime-info already has application/x-blender
for *.blend (and the "BLENDER" magic at the start of the file). GIO, asked through the gio
tool as a file manager would ask it, must give that type to a scene named *.blend and to one
without a name extension; the desktop file must list it in MimeType= and the metainfo in
<provides><mediatype>. Output is TAP."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

BLENDER = 'application/x-blender'
# The first bytes of a scene written by Blender 3.4: magic, pointer size, endianness, version.
SCENE_HEADER = b'BLENDER-v304REND\x00\x00\x00\x00'


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


def content_type(path):
    run = subprocess.run(['gio', 'info', '--attributes=standard::content-type', path],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         check=False)
    match = re.search(r'standard::content-type: (\S+)', run.stdout)
    return match.group(1) if match else run.stdout.strip()


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    desktop, metainfo = sys.argv[1:]
    tap = Tap()

    if shutil.which('gio'):
        with tempfile.TemporaryDirectory() as tmp:
            named = os.path.join(tmp, 'scene.blend')
            unnamed = os.path.join(tmp, 'scene')
            other = os.path.join(tmp, 'notes.txt')
            for path, data in ((named, SCENE_HEADER), (unnamed, SCENE_HEADER),
                               (other, b'not a scene\n')):
                with open(path, 'wb') as f:
                    f.write(data)
            found = [content_type(p) for p in (named, unnamed, other)]
        tap.check(found[2] != BLENDER, f'self-test: a text file is not {BLENDER}',
                  [f'notes.txt: {found[2]}'])
        tap.check(found[0] == BLENDER, f'a *.blend scene is {BLENDER}',
                  [f'scene.blend: {found[0]} (is shared-mime-info installed?)'])
        tap.check(found[1] == BLENDER, f'a scene without a name extension is {BLENDER}',
                  [f'scene: {found[1]}'])
    else:
        print('# gio is missing (libglib2.0-bin): the content types are not checked')

    with open(desktop, encoding='utf-8') as f:
        mime_line = re.search(r'^MimeType=(.*)$', f.read(), re.MULTILINE)
    types = mime_line.group(1).split(';') if mime_line else []
    tap.check(BLENDER in types, f'the desktop file lists {BLENDER} in MimeType=',
              [f'MimeType: {types}'])

    provided = [e.text for e in ET.parse(metainfo).getroot().iterfind('provides/mediatype')]
    tap.check(BLENDER in provided, f'the metainfo provides the media type {BLENDER}',
              [f'provides: {provided}'])
    print(f'1..{tap.n}')
    return 1 if tap.failed else 0


if __name__ == '__main__':
    sys.exit(main())
