#!/usr/bin/python3
# atspi-dump.py NAME: prints the accessible tree of the running application NAME, one node per
# line as "ROLE<TAB>NAME", read over the AT-SPI D-Bus protocol with GIO alone (no libatspi
# bindings needed). A label's accessible name is its text.
#
# atspi-dump.py --click NAME ROLE LABEL: activates the first node of that role and accessible
# name that has an action, as a screen reader does (its first AT-SPI action, such as a
# button's "click").
#
# atspi-dump.py --text NAME ROLE LABEL: prints the text of the first node of that role and
# accessible name that has some (an entry's text, a spin button's number).
#
# atspi-dump.py --state NAME ROLE LABEL STATE: succeeds when a node of that role and accessible
# name is in STATE, "sensitive" (it can be used), "selected" (such as the tab of the page
# shown), "checked" (a switch that is on) or "pressed" (a toggle button that is down), and
# fails when none is.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import sys

from gi.repository import Gio, GLib

ROOT = '/org/a11y/atspi/accessible/root'
ACCESSIBLE = 'org.a11y.atspi.Accessible'
# AtspiStateType
STATES = {'checked': 4, 'pressed': 20, 'selected': 23, 'sensitive': 24}


def call(bus, dest, path, interface, method, args, reply):
    return bus.call_sync(dest, path, interface, method, args, GLib.VariantType.new(reply),
                         Gio.DBusCallFlags.NONE, 5000, None).unpack()


def vanished(error):
    """Whether @error says that a node went away while the tree was read (a toast that
    closed, a row that was replaced): its subtree is skipped."""
    return error.matches(Gio.dbus_error_quark(), Gio.DBusError.UNKNOWN_METHOD) and \
        'Object does not exist' in error.message


def name_of(bus, dest, path):
    value, = call(bus, dest, path, 'org.freedesktop.DBus.Properties', 'Get',
                  GLib.Variant('(ss)', (ACCESSIBLE, 'Name')), '(v)')
    return value


def find(bus, dest, path, role, label, out, depth=0):
    if depth > 64:
        return
    node_role, = call(bus, dest, path, ACCESSIBLE, 'GetRoleName', None, '(s)')
    if node_role == role and name_of(bus, dest, path) == label:
        out.append((dest, path))
    children, = call(bus, dest, path, ACCESSIBLE, 'GetChildren', None, '(a(so))')
    for child_dest, child_path in children:
        try:
            find(bus, child_dest, child_path, role, label, out, depth + 1)
        except GLib.Error as error:
            if not vanished(error):
                raise


def walk(bus, dest, path, depth, out):
    if depth > 64:
        return
    role, = call(bus, dest, path, ACCESSIBLE, 'GetRoleName', None, '(s)')
    out.append('%s\t%s' % (role, name_of(bus, dest, path).replace('\n', ' ')))
    children, = call(bus, dest, path, ACCESSIBLE, 'GetChildren', None, '(a(so))')
    for child_dest, child_path in children:
        try:
            walk(bus, child_dest, child_path, depth + 1, out)
        except GLib.Error as error:
            if not vanished(error):
                raise


def has_state(bus, dest, path, state):
    states, = call(bus, dest, path, ACCESSIBLE, 'GetState', None, '(au)')
    return bool(states[state // 32] & (1 << (state % 32)))


def text_of(bus, dest, path):
    """The node's text (AT-SPI Text interface), or None when it has none."""
    try:
        count, = call(bus, dest, path, 'org.freedesktop.DBus.Properties', 'Get',
                      GLib.Variant('(ss)', ('org.a11y.atspi.Text', 'CharacterCount')), '(v)')
        text, = call(bus, dest, path, 'org.a11y.atspi.Text', 'GetText',
                     GLib.Variant('(ii)', (0, count)), '(s)')
    except GLib.Error:
        return None
    return text


def main():
    click = None
    wanted_state = None
    wanted_text = None
    if len(sys.argv) == 5 and sys.argv[1] == '--click':
        click = (sys.argv[3], sys.argv[4])
        del sys.argv[1]
    elif len(sys.argv) == 5 and sys.argv[1] == '--text':
        wanted_text = (sys.argv[3], sys.argv[4])
        del sys.argv[1]
    elif len(sys.argv) == 6 and sys.argv[1] == '--state' and sys.argv[5] in STATES:
        wanted_state = (sys.argv[3], sys.argv[4], STATES[sys.argv[5]])
        del sys.argv[1]
    elif len(sys.argv) != 2:
        print('usage: atspi-dump.py [--click NAME ROLE LABEL | --text NAME ROLE LABEL | '
              '--state NAME ROLE LABEL STATE | NAME]', file=sys.stderr)
        return 2
    wanted = sys.argv[1]
    session = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    address, = call(session, 'org.a11y.Bus', '/org/a11y/bus', 'org.a11y.Bus', 'GetAddress',
                    None, '(s)')
    bus = Gio.DBusConnection.new_for_address_sync(
        address,
        Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
        Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
        None, None)
    apps, = call(bus, 'org.a11y.atspi.Registry', ROOT, ACCESSIBLE, 'GetChildren', None,
                 '(a(so))')
    for dest, path in apps:
        try:
            if name_of(bus, dest, path) != wanted:
                continue
        except GLib.Error:
            continue
        if wanted_state is not None:
            matches = []
            find(bus, dest, path, wanted_state[0], wanted_state[1], matches)
            if any(has_state(bus, d, p, wanted_state[2]) for d, p in matches):
                return 0
            return 1
        if wanted_text is not None:
            matches = []
            find(bus, dest, path, wanted_text[0], wanted_text[1], matches)
            for found in matches:
                text = text_of(bus, found[0], found[1])
                if text is not None:
                    print(text)
                    return 0
            print('atspi-dump: no %s named %r with text' % wanted_text, file=sys.stderr)
            return 1
        if click is not None:
            # A widget may wrap the one that acts (a menu button its toggle button): the
            # first match that has an action is activated.
            matches = []
            find(bus, dest, path, click[0], click[1], matches)
            for found in matches:
                try:
                    done, = call(bus, found[0], found[1], 'org.a11y.atspi.Action', 'DoAction',
                                 GLib.Variant('(i)', (0,)), '(b)')
                except GLib.Error:
                    continue
                return 0 if done else 1
            print('atspi-dump: no %s named %r with an action' % click, file=sys.stderr)
            return 1
        out = []
        walk(bus, dest, path, 0, out)
        print('\n'.join(out))
        return 0
    print('atspi-dump: no application named %r on the accessibility bus' % wanted,
          file=sys.stderr)
    return 1


if __name__ == '__main__':
    sys.exit(main())
