#!/usr/bin/python3
# job-payments.py NAME: prints what the job page of the running application NAME says was paid,
# read over AT-SPI as a screen reader reads it: one line per payment row ("0.0124 GNT to
# 0x2c75…5c23"), "ADDRESS AMOUNT TX", where ADDRESS is the full address and AMOUNT the exact
# amount in the token's smallest unit, both from the row's description (its tooltip: the
# exact amount, then the full address), and TX the transaction named in the row's subtitle
# ("Subtask 2 · paid in 0x…", or "-" while it is not paid yet).
#
# SPDX-License-Identifier: GPL-3.0-or-later

import decimal
import re
import sys

from gi.repository import Gio, GLib

ROOT = '/org/a11y/atspi/accessible/root'
ACCESSIBLE = 'org.a11y.atspi.Accessible'
DECIMALS = 18
TITLE = re.compile(r'^[0-9][0-9,.]* GNT to 0x[0-9a-fA-F]{4}…[0-9a-fA-F]{4}$')
EXACT = re.compile(r'^([0-9][0-9,]*(?:\.[0-9]+)?) GNT$')
ADDRESS = re.compile(r'^0x[0-9a-fA-F]{40}$')
PAID_IN = re.compile(r'paid in (0x[0-9a-f]{64})')


def call(bus, dest, path, interface, method, args, reply):
    return bus.call_sync(dest, path, interface, method, args, GLib.VariantType.new(reply),
                         Gio.DBusCallFlags.NONE, 5000, None).unpack()


def prop(bus, dest, path, name):
    value, = call(bus, dest, path, 'org.freedesktop.DBus.Properties', 'Get',
                  GLib.Variant('(ss)', (ACCESSIBLE, name)), '(v)')
    return value


def names_below(bus, dest, path, out, depth=0):
    """The accessible names of the node's descendants, depth first."""
    if depth > 8:
        return
    children, = call(bus, dest, path, ACCESSIBLE, 'GetChildren', None, '(a(so))')
    for child_dest, child_path in children:
        out.append(prop(bus, child_dest, child_path, 'Name'))
        names_below(bus, child_dest, child_path, out, depth + 1)


def walk(bus, dest, path, out, depth=0):
    if depth > 64:
        return
    name = prop(bus, dest, path, 'Name')
    # The row, not its title's label, which has the same name.
    if TITLE.match(name) and call(bus, dest, path, ACCESSIBLE, 'GetRoleName', None,
                                  '(s)')[0] != 'label':
        description = prop(bus, dest, path, 'Description')
        inner = []
        names_below(bus, dest, path, inner)
        out.append((name, description, inner))
    children, = call(bus, dest, path, ACCESSIBLE, 'GetChildren', None, '(a(so))')
    for child_dest, child_path in children:
        try:
            walk(bus, child_dest, child_path, out, depth + 1)
        except GLib.Error:
            pass   # a row replaced while the tree was read


def units(text):
    """'0.0123 GNT' as an integer number of the token's smallest units."""
    match = EXACT.match(text.strip())
    if match is None:
        raise ValueError('not an exact GNT amount: %r' % text)
    value = decimal.Decimal(match.group(1).replace(',', ''))
    scaled = value.scaleb(DECIMALS)
    if scaled != scaled.to_integral_value():
        raise ValueError('more decimals than the token has: %r' % text)
    return int(scaled)


def main():
    if len(sys.argv) != 2:
        print('usage: job-payments.py NAME', file=sys.stderr)
        return 2
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
            if prop(bus, dest, path, 'Name') != sys.argv[1]:
                continue
        except GLib.Error:
            continue
        rows = []
        walk(bus, dest, path, rows)
        for name, description, inner in rows:
            lines = description.split('\n')
            if len(lines) != 2 or not ADDRESS.match(lines[1].strip()):
                print('job-payments.py: the row %r has no exact amount and address in its '
                      'description (%r)' % (name, description), file=sys.stderr)
                return 1
            tx = '-'
            for text in inner:
                match = PAID_IN.search(text)
                if match is not None:
                    tx = match.group(1)
            print('%s %d %s' % (lines[1].strip(), units(lines[0]), tx))
        return 0
    print('job-payments.py: no application named %r on the accessibility bus' % sys.argv[1],
          file=sys.stderr)
    return 1


if __name__ == '__main__':
    sys.exit(main())
