#!/usr/bin/python3
# atspi-dump.py NAME: prints the accessible tree of the running application NAME, one node per
# line as "ROLE<TAB>NAME", read over the AT-SPI D-Bus protocol with GIO alone (no libatspi
# bindings needed). A label's accessible name is its text.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import sys

from gi.repository import Gio, GLib

ROOT = '/org/a11y/atspi/accessible/root'
ACCESSIBLE = 'org.a11y.atspi.Accessible'


def call(bus, dest, path, interface, method, args, reply):
    return bus.call_sync(dest, path, interface, method, args, GLib.VariantType.new(reply),
                         Gio.DBusCallFlags.NONE, 5000, None).unpack()


def name_of(bus, dest, path):
    value, = call(bus, dest, path, 'org.freedesktop.DBus.Properties', 'Get',
                  GLib.Variant('(ss)', (ACCESSIBLE, 'Name')), '(v)')
    return value


def walk(bus, dest, path, depth, out):
    if depth > 64:
        return
    role, = call(bus, dest, path, ACCESSIBLE, 'GetRoleName', None, '(s)')
    out.append('%s\t%s' % (role, name_of(bus, dest, path).replace('\n', ' ')))
    children, = call(bus, dest, path, ACCESSIBLE, 'GetChildren', None, '(a(so))')
    for child_dest, child_path in children:
        walk(bus, child_dest, child_path, depth + 1, out)


def main():
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
        out = []
        walk(bus, dest, path, 0, out)
        print('\n'.join(out))
        return 0
    print('atspi-dump: no application named %r on the accessibility bus' % wanted,
          file=sys.stderr)
    return 1


if __name__ == '__main__':
    sys.exit(main())
