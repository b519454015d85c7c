#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks that the keyboard shortcuts window lists the app's shortcuts, and only those.

    check-shortcuts.py HELP_OVERLAY_UI SOURCE_DIR

The shortcuts are read from the C sources of SOURCE_DIR (the app's, src/kiln): the
accelerators given to app actions with gtk_application_set_accels_for_action () (the table
of { "app.…", { "<Control>…", NULL } } entries in kiln-application-actions.c) and the key
bindings of widgets (gtk_widget_class_add_binding_action ()). Every one must be in
HELP_OVERLAY_UI: an app action's as a shortcut naming the action (GTK shows its
accelerators) or its accelerator, a widget binding's as a shortcut with its accelerator,
once for each different action the same key does in different places. Left out: Escape bound
to "window.close" (every dialog closes with it) and the keypad's Enter next to Return. The
other way round, every action a shortcut names must have accelerators, and every accelerator
shown must be one of the app's or GTK's own (F10 opens the main menu, Ctrl+? this window).
Output is TAP."""

import glob
import os
import re
import sys
import xml.etree.ElementTree as ET

# Accelerators GTK gives every window of the app.
GTK_BUILT_IN = {'F10', '<Control>question'}
# Actions GTK adds itself.
GTK_ACTIONS = {'win.show-help-overlay'}

MODIFIERS = {
    'GDK_CONTROL_MASK': '<Control>',
    'GDK_SHIFT_MASK': '<Shift>',
    'GDK_ALT_MASK': '<Alt>',
    'GDK_SUPER_MASK': '<Super>',
}


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


def normalize(accel):
    """One spelling for an accelerator: "<Control>o", "<ctrl>O", "<Primary>o" alike."""
    mods = re.findall(r'<([^>]+)>', accel)
    key = re.sub(r'<[^>]+>', '', accel)
    names = []
    for mod in mods:
        mod = mod.lower()
        mod = {'ctrl': 'control', 'primary': 'control', 'mod1': 'alt'}.get(mod, mod)
        names.append(f'<{mod.capitalize()}>')
    if len(key) == 1:
        key = key.lower()
    return ''.join(sorted(names)) + key


def app_accels(sources):
    """{action: [accelerators]} of the gtk_application_set_accels_for_action () table."""
    accels = {}
    for path in sources:
        with open(path, encoding='utf-8') as f:
            text = f.read()
        if 'gtk_application_set_accels_for_action' not in text:
            continue
        for action, accel_list in re.findall(r'\{\s*"((?:app|win|window)\.[\w-]+)"\s*,'
                                             r'\s*\{([^}]*)\}\s*\}', text):
            found = re.findall(r'"([^"]+)"', accel_list)
            if found:
                accels.setdefault(action, []).extend(normalize(a) for a in found)
    return accels


def widget_bindings(sources):
    """[(file, action, accelerator)] of gtk_widget_class_add_binding_action () calls."""
    bindings = []
    pattern = re.compile(r'gtk_widget_class_add_binding_action\s*\(\s*\w+\s*,\s*'
                         r'GDK_KEY_(\w+)\s*,\s*([\w|\s]+?)\s*,\s*"([^"]+)"')
    for path in sources:
        with open(path, encoding='utf-8') as f:
            text = f.read()
        for key, mods, action in pattern.findall(text):
            prefix = ''.join(MODIFIERS.get(m.strip(), '') for m in mods.split('|')
                             if m.strip() != '0')
            bindings.append((path.rsplit('/', 1)[-1], action, normalize(prefix + key)))
    return bindings


def overlay_shortcuts(path):
    """[(title, action or None, [accelerators])] of the GtkShortcutsShortcut objects."""
    shortcuts = []
    for obj in ET.parse(path).getroot().iter('object'):
        if obj.get('class') != 'GtkShortcutsShortcut':
            continue
        props = {p.get('name'): (p.text or '') for p in obj.findall('property')}
        accels = [normalize(a) for a in props.get('accelerator', '').split()]
        shortcuts.append((props.get('title', ''), props.get('action-name'), accels))
    return shortcuts


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    overlay_path = sys.argv[1]
    sources = sorted(glob.glob(os.path.join(sys.argv[2], '*.c')))
    tap = Tap()

    accels = app_accels(sources)
    bindings = widget_bindings(sources)
    shortcuts = overlay_shortcuts(overlay_path)
    tap.check(accels and shortcuts, 'the app has accelerators and the window lists shortcuts',
              [f'{len(accels)} app accelerators, {len(shortcuts)} shortcuts listed'])

    listed_actions = {action for _, action, _ in shortcuts if action}
    listed_accels = {a for _, _, alist in shortcuts for a in alist}

    for action, alist in sorted(accels.items()):
        shown = action in listed_actions or any(a in listed_accels for a in alist)
        tap.check(shown, f'{action} ({", ".join(alist)}) is in the shortcuts window')

    # A key that does different things in different places (Escape) is listed once for
    # each of them.
    actions_of = {}
    for source, action, accel in bindings:
        if action == 'window.close' and accel == 'Escape':
            continue
        if accel.endswith('KP_Enter'):
            accel = accel.replace('KP_Enter', 'Return')
        actions_of.setdefault(accel, {}).setdefault(action, source)
    for accel, actions in sorted(actions_of.items()):
        times = sum(1 for _, _, alist in shortcuts if accel in alist)
        what = ', '.join(f'{a} in {src}' for a, src in sorted(actions.items()))
        tap.check(times >= len(actions),
                  f'{accel} ({what}) is in the shortcuts window'
                  + (f' {len(actions)} times' if len(actions) > 1 else ''),
                  [f'listed {times} times'])

    known_accels = {a for alist in accels.values() for a in alist} | \
        {accel for _, _, accel in bindings} | {normalize(a) for a in GTK_BUILT_IN}
    for title, action, alist in shortcuts:
        if action:
            tap.check(action in accels or action in GTK_ACTIONS,
                      f'"{title}" names {action}, which has accelerators')
        for accel in alist:
            tap.check(accel in known_accels, f'"{title}" shows {accel}, a shortcut of the app')

    print(f'1..{tap.n}')
    return 1 if tap.failed else 0


if __name__ == '__main__':
    sys.exit(main())
