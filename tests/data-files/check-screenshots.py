#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks the screenshots that the metainfo shows in software centres.

    check-screenshots.py METAINFO SCREENSHOT_DIR

Every <image> of the metainfo must be a URL of the repository's data/screenshots/ folder (as
served by raw.githubusercontent.com from the main branch) whose file is in SCREENSHOT_DIR: a
PNG between 624×351 and 3840×2160 pixels, the bounds appstream-util validates, with a caption.
Exactly one screenshot is the default, and every PNG in SCREENSHOT_DIR is used.
build-aux/take-screenshots.sh takes them from the running app. Output is TAP."""

import os
import struct
import sys
import xml.etree.ElementTree as ET

URL_PREFIX = 'https://raw.githubusercontent.com/kilnapp/kiln/main/data/screenshots/'
PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
MIN_SIZE = (624, 351)
MAX_SIZE = (3840, 2160)


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


def png_size(path):
    """(width, height) of a PNG, or None when the file is not one."""
    with open(path, 'rb') as f:
        head = f.read(24)
    if len(head) < 24 or not head.startswith(PNG_SIGNATURE) or head[12:16] != b'IHDR':
        return None
    return struct.unpack('>II', head[16:24])


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    metainfo, folder = sys.argv[1:]
    tap = Tap()

    screenshots = ET.parse(metainfo).getroot().findall('screenshots/screenshot')
    tap.check(len(screenshots) > 0, 'the metainfo has screenshots')
    defaults = [s for s in screenshots if s.get('type') == 'default']
    tap.check(len(defaults) == 1, 'exactly one screenshot is the default',
              [f'{len(defaults)} are'])

    used = set()
    for shot in screenshots:
        url = (shot.findtext('image') or '').strip()
        name = url[len(URL_PREFIX):] if url.startswith(URL_PREFIX) else None
        if name is None or '/' in name or not name.endswith('.png'):
            tap.check(False, f'{url} is a PNG of data/screenshots/',
                      [f'screenshots are served from {URL_PREFIX}NAME.png'])
            continue
        used.add(name)
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            tap.check(False, f'{name}: the file exists',
                      [f'{path} is missing: run build-aux/take-screenshots.sh'])
            continue
        size = png_size(path)
        fits = (size is not None and MIN_SIZE[0] <= size[0] <= MAX_SIZE[0] and
                MIN_SIZE[1] <= size[1] <= MAX_SIZE[1])
        caption = (shot.findtext('caption') or '').strip()
        tap.check(fits and caption != '',
                  f'{name}: a PNG of {size[0]}×{size[1]} with a caption' if size else
                  f'{name}: a PNG with a caption',
                  [f'size {size}, caption {caption!r}'])

    unused = sorted(set(f for f in os.listdir(folder) if f.endswith('.png')) - used)
    tap.check(not unused, 'every screenshot in the folder is in the metainfo',
              [f'{f} is not used' for f in unused])
    print(f'1..{tap.n}')
    return 1 if tap.failed else 0


if __name__ == '__main__':
    sys.exit(main())
