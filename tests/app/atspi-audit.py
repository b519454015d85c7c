#!/usr/bin/python3
# atspi-audit.py [--keyboard-only] APP WINDOW: checks, over the AT-SPI D-Bus protocol, that
# what a window of a running application shows can be used with a screen reader and with the
# keyboard alone. Reads the tree with GIO alone (no libatspi bindings needed), as
# atspi-dump.py does.
#
# First it presses Tab (xdotool, to the window with the keyboard focus) until the focus
# comes back to where it started, following it with the "focused" state changes that the
# application sends, and prints each stop as "ROLE<TAB>NAME". Then it checks:
#
#   keyboard  every Tab moved the focus, and every focusable, sensitive control shown in
#             WINDOW was reached;
#   names     every control shown (a node that takes the focus or has an action, and is not
#             a label, image, container or other passive role), and every Tab stop, has a
#             proper accessible name: not empty, not the widget type that GTK falls back to
#             ("GtkImage"), without a mnemonic's underscore ("_Send… Send…" is what GTK 4.8
#             makes of a button whose label property has one).
#
# Exits with 0 when both hold, otherwise with 1 when only the names failed, 2 when only the
# keyboard failed, 3 when both did. With --keyboard-only, the names are printed but do not
# count: for a window that is a composite widget of the toolkit (GtkShortcutsWindow), whose
# controls the application does not make.
#
# What GTK 4.8 does not tell AT-SPI is worked out:
# - which widgets are shown (there is no "showing" state, nor a way to ask what is at a
#   point): a node with no size is not shown, and of the panels of a stack (children of one
#   parent that cover the same area), those without a Tab stop are taken as hidden when
#   another panel has one, and those with controls when no panel has a stop and another
#   panel has no controls at all;
# - where the focus is in a libadwaita 1.2 entry row, whose text field sends no focus event:
#   when a Tab is followed by none, a "0" is typed and the field whose text grew is the one
#   with the focus; the "0" is erased again at once.
# Left out: the window's own Minimize, Maximize and Close buttons (GNOME keeps them out of
# the Tab chain; the window manager's keys do their work) and, for names, the widgets inside
# GTK and libadwaita's own composite widgets that the application cannot name (the list of a
# drop-down's popover, the buttons inside an entry row, a toast's close button, GTK's file
# chooser, which the portal replaces inside Flatpak).
#
# SPDX-License-Identifier: GPL-3.0-or-later

import re
import subprocess
import sys
import time

from gi.repository import Gio, GLib

ROOT = '/org/a11y/atspi/accessible/root'
ACCESSIBLE = 'org.a11y.atspi.Accessible'
ACTION = 'org.a11y.atspi.Action'
COMPONENT = 'org.a11y.atspi.Component'
TEXT = 'org.a11y.atspi.Text'
PROPERTIES = 'org.freedesktop.DBus.Properties'
# AtspiStateType
FOCUSABLE = 11
SENSITIVE = 24
# Roles (as gtk_accessible_role_to_name () names them) of nodes that only show things or
# hold others: an action on them (a label's links, a widget's installed actions) is not a
# control of its own.
PASSIVE_ROLES = {
    'label', 'image', 'img', 'separator', 'generic', 'group', 'none', 'presentation',
    'widget', 'scrollbar', 'scroll bar', 'progress bar', 'meter', 'status', 'list',
    'list box', 'grid', 'tree grid', 'table', 'tab list', 'tab panel', 'window', 'dialog',
    'alert dialog', 'application', 'toolbar', 'navigation', 'region', 'banner', 'article',
    'document', 'heading', 'tooltip', 'menu bar', 'menu', 'row group', 'column header',
    'row header', 'cell', 'grid cell', 'caption', 'landmark', 'main', 'complementary',
    'contentinfo', 'form', 'search', 'note', 'log', 'marquee', 'timer', 'term',
    'definition', 'math', 'directory', 'feed', 'figure', 'range', 'structure', 'section',
    'section head', 'command', 'composite', 'input', 'select', 'window section',
}
# Fields that take typed text.
TEXT_ROLES = {'text box', 'search box', 'password text'}
# What GTK shows as the name of a node that has none of its own.
TYPE_NAME = re.compile(r'^(Gtk|Adw|Kiln)[A-Z][A-Za-z]*$')
# A mnemonic's underscore at the start of a word: "_Send…", "Import a _Keystore File…".
MNEMONIC = re.compile(r'(^|\s)_[^\W_]')
# The window's own buttons (GtkWindowControls), which GNOME leaves out of the Tab chain.
WINDOW_CONTROLS = {'Minimize', 'Maximize', 'Restore', 'Close'}
# Composite widgets of GTK and libadwaita whose insides the application cannot name.
FOREIGN_NAMES = {'AdwToastWidget', 'GtkFileChooserWidget'}
FOREIGN_ROLES = {'combo box'} | TEXT_ROLES
EVENT_TIMEOUT = 3.0


def call(bus, dest, path, interface, method, args, reply):
    return bus.call_sync(dest, path, interface, method, args, GLib.VariantType.new(reply),
                         Gio.DBusCallFlags.NONE, 5000, None).unpack()


def get(bus, dest, path, interface, name):
    value, = call(bus, dest, path, PROPERTIES, 'Get', GLib.Variant('(ss)', (interface, name)),
                  '(v)')
    return value


def vanished(error):
    return error.matches(Gio.dbus_error_quark(), Gio.DBusError.UNKNOWN_METHOD) and \
        'Object does not exist' in error.message


class Node:
    def __init__(self, bus, dest, path, parent=None):
        self.bus = bus
        self.dest = dest
        self.path = path
        self.parent = parent
        self.orphan = parent is None
        self.children = []
        self.role, = call(bus, dest, path, ACCESSIBLE, 'GetRoleName', None, '(s)')
        self.name = get(bus, dest, path, ACCESSIBLE, 'Name').replace('\n', ' ').strip()
        self.states, = call(bus, dest, path, ACCESSIBLE, 'GetState', None, '(au)')
        try:
            self.extents, = call(bus, dest, path, COMPONENT, 'GetExtents',
                                 GLib.Variant('(u)', (1,)), '((iiii))')
        except GLib.Error:
            self.extents = (0, 0, 0, 0)
        self.n_actions = 0
        if self.role not in PASSIVE_ROLES:
            try:
                self.n_actions = get(bus, dest, path, ACTION, 'NActions')
            except GLib.Error:
                pass

    @property
    def key(self):
        return (self.dest, self.path)

    def has(self, state):
        return bool(self.states[state // 32] & (1 << (state % 32)))

    def sized(self):
        return self.extents[2] > 0 and self.extents[3] > 0

    def control(self):
        """Whether a person acts on this node: it takes the focus, or it acts."""
        return self.role not in PASSIVE_ROLES and (self.has(FOCUSABLE) or self.n_actions > 0)

    def ancestors(self):
        node = self
        while True:
            if node.parent is None and node.orphan:
                # Made outside the walk (a node that appeared since): read its parents.
                node.orphan = False
                try:
                    dest, path = get(self.bus, node.dest, node.path, ACCESSIBLE, 'Parent')
                except GLib.Error:
                    dest, path = '', ''
                if dest and path not in (ROOT, '/org/a11y/atspi/null'):
                    node.parent = Node(self.bus, dest, path)
            node = node.parent
            if node is None:
                return
            yield node

    def foreign(self):
        """Whether this node is inside a composite widget of GTK or libadwaita."""
        return any(a.name in FOREIGN_NAMES or a.role in FOREIGN_ROLES for a in self.ancestors())

    def naming_problem(self):
        """Why the accessible name will not do, or None."""
        if not self.name:
            return 'no accessible name'
        if TYPE_NAME.match(self.name):
            return f'only the widget type for a name ({self.name})'
        if MNEMONIC.search(self.name):
            return f'a mnemonic underscore in its name ("{self.name}")'
        return None

    def subtree(self):
        yield self
        for child in self.children:
            yield from child.subtree()

    def where(self):
        trail = [f'{a.role} "{a.name}"' if a.name else a.role for a in self.ancestors()]
        what = 'focusable' if self.has(FOCUSABLE) else f'{self.n_actions} actions'
        return f'{" › ".join(reversed(trail[:5]))} ({what})' 

    def __str__(self):
        return f'{self.role}\t{self.name}'


def walk(bus, dest, path, parent=None, depth=0):
    """The subtree at PATH, without the children of nodes that have no size (hidden)."""
    node = Node(bus, dest, path, parent)
    if depth > 64 or (parent is not None and not node.sized()):
        return node
    children, = call(bus, dest, path, ACCESSIBLE, 'GetChildren', None, '(a(so))')
    for child_dest, child_path in children:
        try:
            node.children.append(walk(bus, child_dest, child_path, node, depth + 1))
        except GLib.Error as error:
            if not vanished(error):
                raise
    return node


def connect():
    session = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    address, = call(session, 'org.a11y.Bus', '/org/a11y/bus', 'org.a11y.Bus', 'GetAddress',
                    None, '(s)')
    return Gio.DBusConnection.new_for_address_sync(
        address,
        Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
        Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
        None, None)


def find_window(bus, app, window):
    """(dest, path) of the toplevel named WINDOW of the application named APP."""
    apps, = call(bus, 'org.a11y.atspi.Registry', ROOT, ACCESSIBLE, 'GetChildren', None,
                 '(a(so))')
    for dest, path in apps:
        try:
            if get(bus, dest, path, ACCESSIBLE, 'Name') != app:
                continue
            toplevels, = call(bus, dest, path, ACCESSIBLE, 'GetChildren', None, '(a(so))')
        except GLib.Error:
            continue
        for top_dest, top_path in toplevels:
            if get(bus, top_dest, top_path, ACCESSIBLE, 'Name') == window:
                return top_dest, top_path
    return None


class FocusFollower:
    """The nodes that gain the focus, from the application's "focused" state changes."""

    def __init__(self, bus):
        self.events = []
        bus.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
                      'AddMatch',
                      GLib.Variant('(s)', ("type='signal',interface='org.a11y.atspi.Event."
                                           "Object',member='StateChanged',arg0='focused'",)),
                      None, Gio.DBusCallFlags.NONE, 5000, None)
        bus.signal_subscribe(None, 'org.a11y.atspi.Event.Object', 'StateChanged', None,
                             'focused', Gio.DBusSignalFlags.NONE, self.on_event)

    def on_event(self, connection, sender, path, interface, signal, params):
        kind, gained, _detail, _any, _properties = params.unpack()
        if kind == 'focused' and gained == 1:
            self.events.append((sender, path))

    def pump(self, seconds):
        context = GLib.MainContext.default()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            while context.iteration(False):
                pass
            time.sleep(0.01)

    def next(self):
        """The node that gained the focus last, or None when none did in time."""
        context = GLib.MainContext.default()
        deadline = time.monotonic() + EVENT_TIMEOUT
        while not self.events and time.monotonic() < deadline:
            while context.iteration(False):
                pass
            time.sleep(0.01)
        # A focus that moves on at once (into a widget's own child) arrives too.
        self.pump(0.1)
        if not self.events:
            return None
        last = self.events[-1]
        self.events.clear()
        return last


def text_length(bus, node):
    try:
        return get(bus, node.dest, node.path, TEXT, 'CharacterCount')
    except GLib.Error:
        return None


def probe_text_focus(bus, fields):
    """The field that has the keyboard focus without telling AT-SPI: the one whose text
    grows when a character is typed. The character is erased again."""
    before = {f.key: text_length(bus, f) for f in fields}
    # End first: a field entered with Tab has all its text selected, which a typed
    # character would replace.
    subprocess.run(['xdotool', 'key', 'End'], check=True)
    subprocess.run(['xdotool', 'type', '0'], check=True)
    time.sleep(0.1)
    found = None
    for field in fields:
        length = text_length(bus, field)
        if length is not None and before[field.key] is not None and \
                length == before[field.key] + 1:
            found = field
            break
    if found is not None:
        subprocess.run(['xdotool', 'key', 'BackSpace'], check=True)
    return found


def audit(bus, app, window):
    found = find_window(bus, app, window)
    if found is None:
        print(f'atspi-audit: {app} shows no window named {window!r}', file=sys.stderr)
        return 3
    root = walk(bus, found[0], found[1])
    nodes = list(root.subtree())
    by_key = {n.key: n for n in nodes}
    fields = [n for n in nodes if n.role in TEXT_ROLES and n.sized()]
    most = 2 * sum(1 for n in nodes if n.control() and n.has(FOCUSABLE)) + 10
    follower = FocusFollower(bus)
    follower.pump(0.2)
    follower.events.clear()

    keyboard_failed = False
    names_failed = False
    stops = []
    reached = set()
    for _ in range(most):
        subprocess.run(['xdotool', 'key', '--delay', '50', 'Tab'], check=True)
        key = follower.next()
        node = by_key.get(key) if key is not None else None
        if key is None:
            node = probe_text_focus(bus, fields) if fields else None
            if node is None:
                print('# Tab moved the focus nowhere that the application tells of')
                keyboard_failed = True
                continue
            key = node.key
        if stops and key == stops[0]:
            break
        if stops and key == stops[-1]:
            print(f'# Tab left the focus on {by_key[key] if key in by_key else key[1]}')
            keyboard_failed = True
            continue
        stops.append(key)
        reached.add(key)
        if node is None:
            # Made since the tree was read.
            node = Node(bus, key[0], key[1])
        print(node)
        problem = node.naming_problem()
        if problem and node.role not in PASSIVE_ROLES and not node.foreign():
            print(f'# the focus stops at a {node.role} with {problem}')
            names_failed = True
    else:
        print(f'# the focus did not come back to where it started in {most} presses of Tab')
        keyboard_failed = True

    # The panels of stacks that another panel of the same stack hides: the panels without a
    # Tab stop when another one has stops, or, when none has, the panels with controls when
    # another one has none (a stack showing a panel of text, such as the window title that
    # a view switcher gives way to).
    hidden = set()
    for node in nodes:
        sized = [c for c in node.children if c.sized()]
        has_stop = {c.key: any(d.key in reached for d in c.subtree()) for c in sized}
        has_controls = {c.key: any(d.control() and d.has(FOCUSABLE) for d in c.subtree())
                        for c in sized}
        for child in sized:
            others = [o for o in sized if o is not child and overlap(child.extents, o.extents)]
            if has_stop[child.key] or not others:
                continue
            if any(has_stop[o.key] for o in others) or \
                    (has_controls[child.key] and
                     not any(has_stop[o.key] or has_controls[o.key] for o in others)):
                hidden.add(child.key)

    shown = []
    pending = [root]
    while pending:
        node = pending.pop()
        if node.key in hidden or (node is not root and not node.sized()):
            continue
        shown.append(node)
        pending.extend(reversed(node.children))

    controls = [n for n in shown if n.control()]
    for node in controls:
        problem = node.naming_problem()
        if problem and not node.foreign():
            print(f'# {node.role} with {problem}, in {node.where()}')
            names_failed = True

    expected = [n for n in controls
                if n.has(FOCUSABLE) and n.has(SENSITIVE) and not n.foreign() and
                not (n.role == 'button' and n.name in WINDOW_CONTROLS)]
    for node in expected:
        if not any(d.key in reached for d in node.subtree()):
            print(f'# Tab never reaches {node.role} "{node.name}", in {node.where()}')
            keyboard_failed = True

    print(f'# {len(stops)} stops in the Tab chain of {window}; {len(controls)} controls '
          f'shown, {len(expected)} of them focusable')
    return (1 if names_failed else 0) | (2 if keyboard_failed else 0)


def overlap(a, b):
    """Whether two extents cover mostly the same area."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    width = min(ax + aw, bx + bw) - max(ax, bx)
    height = min(ay + ah, by + bh) - max(ay, by)
    if width <= 0 or height <= 0:
        return False
    return width * height * 2 >= min(aw * ah, bw * bh)


def main():
    args = sys.argv[1:]
    keyboard_only = args[:1] == ['--keyboard-only']
    if keyboard_only:
        args = args[1:]
    if len(args) != 2:
        print('usage: atspi-audit.py [--keyboard-only] APP WINDOW', file=sys.stderr)
        return 4
    status = audit(connect(), args[0], args[1])
    return status & 2 if keyboard_only else status


if __name__ == '__main__':
    sys.exit(main())
