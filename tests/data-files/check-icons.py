#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks Kiln's icons before they are installed.

    check-icons.py ICON.svg...

Every icon must be well-formed SVG that draws on its own: no raster images, no links to
other files, no scripts. A full-colour app icon (scalable/) has a 128×128 canvas; a
symbolic icon (*-symbolic.svg) has a 16×16 canvas and paints in one colour only, without
gradients, so that GTK can recolour it. Output is TAP, one case per icon."""

import os
import re
import sys
import xml.etree.ElementTree as ET

SVG_NS = '{http://www.w3.org/2000/svg}'
XLINK_HREF = '{http://www.w3.org/1999/xlink}href'
COLOUR_ATTRS = ('fill', 'stroke', 'stop-color', 'color', 'flood-color', 'lighting-color')
NEUTRAL = {'none', 'currentcolor', 'inherit'}


class IconError(Exception):
    pass


def colours_in(el):
    found = []
    for attr in COLOUR_ATTRS:
        if el.get(attr):
            found.append(el.get(attr))
    for decl in (el.get('style') or '').split(';'):
        name, _, value = decl.partition(':')
        if name.strip() in COLOUR_ATTRS and value.strip():
            found.append(value.strip())
    return [c.lower() for c in found if c.lower() not in NEUTRAL]


def check_icon(path):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        raise IconError(f'not well-formed XML: {e}') from e
    if root.tag != SVG_NS + 'svg':
        raise IconError(f'the root element is {root.tag}, not an SVG <svg>')

    symbolic = os.path.basename(path).endswith('-symbolic.svg')
    size = 16 if symbolic else 128
    view_box = re.split(r'[\s,]+', (root.get('viewBox') or '').strip())
    if view_box != ['0', '0', str(size), str(size)]:
        raise IconError(f'viewBox is "{root.get("viewBox")}", expected "0 0 {size} {size}"')
    for attr in ('width', 'height'):
        if root.get(attr) not in (None, str(size), f'{size}px'):
            raise IconError(f'{attr} is {root.get(attr)}, expected {size}')

    colours = set()
    for el in root.iter():
        tag = el.tag.replace(SVG_NS, '')
        if tag in ('image', 'script', 'foreignObject'):
            raise IconError(f'contains <{tag}>')
        href = el.get(XLINK_HREF) or el.get('href')
        if href and not href.startswith('#'):
            raise IconError(f'links to {href}')
        for value in colours_in(el):
            if value.startswith('url(') and not value.startswith('url(#'):
                raise IconError(f'paints with {value}')
            colours.add(value)
        if symbolic and tag in ('linearGradient', 'radialGradient', 'pattern'):
            raise IconError(f'a symbolic icon must not use <{tag}>')

    if symbolic and len(colours) > 1:
        raise IconError(f'a symbolic icon must use one colour, found {sorted(colours)}')
    if not colours:
        raise IconError('paints nothing')


def main(argv):
    paths = argv[1:]
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    print(f'1..{len(paths)}')
    failed = 0
    for n, path in enumerate(paths, 1):
        try:
            check_icon(path)
            print(f'ok {n} - {os.path.basename(path)}')
        except (OSError, IconError) as e:
            failed += 1
            print(f'not ok {n} - {os.path.basename(path)}: {e}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
