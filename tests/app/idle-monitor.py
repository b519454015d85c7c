#!/usr/bin/python3
# idle-monitor.py: GNOME's org.gnome.Mutter.IdleMonitor on the session bus, with the idle time
# set by the test instead of by a keyboard and mouse.
#
# Serves /org/gnome/Mutter/IdleMonitor/Core as Mutter does (GetIdletime, AddIdleWatch,
# AddUserActiveWatch, RemoveWatch, WatchFired sent only to the client that added the watch),
# and the test's controls at /io/github/kilnapp/Kiln/Test/IdleMonitor:
#   SetIdletime(t ms)   the idle time is now MS: idle watches whose interval it reaches fire
#   UserActive()        input: the idle time drops to 0 and user-active watches fire and go
#   CountWatches() -> (u idle, u active)
# Prints "ready" once the name is owned, and runs until its standard input closes.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import sys

from gi.repository import Gio, GLib

NAME = 'org.gnome.Mutter.IdleMonitor'
PATH = '/org/gnome/Mutter/IdleMonitor/Core'
CONTROL_PATH = '/io/github/kilnapp/Kiln/Test/IdleMonitor'

# The interface as Mutter's org.gnome.Mutter.IdleMonitor.xml describes it.
MUTTER_XML = '''
<node>
  <interface name='org.gnome.Mutter.IdleMonitor'>
    <method name='GetIdletime'>
      <arg name='idletime' direction='out' type='t'/>
    </method>
    <method name='AddIdleWatch'>
      <arg name='interval' direction='in' type='t'/>
      <arg name='id' direction='out' type='u'/>
    </method>
    <method name='AddUserActiveWatch'>
      <arg name='id' direction='out' type='u'/>
    </method>
    <method name='RemoveWatch'>
      <arg name='id' direction='in' type='u'/>
    </method>
    <signal name='WatchFired'>
      <arg name='id' type='u'/>
    </signal>
  </interface>
</node>
'''

CONTROL_XML = '''
<node>
  <interface name='io.github.kilnapp.Kiln.Test.IdleMonitor'>
    <method name='SetIdletime'>
      <arg name='idletime' direction='in' type='t'/>
    </method>
    <method name='UserActive'/>
    <method name='CountWatches'>
      <arg name='idle' direction='out' type='u'/>
      <arg name='active' direction='out' type='u'/>
    </method>
  </interface>
</node>
'''


class IdleMonitor:
    def __init__(self, connection):
        self.connection = connection
        self.idletime = 0
        self.next_id = 0
        # id -> [sender, interval (0: user-active), fired]
        self.watches = {}

    def fire(self, watch_id):
        sender = self.watches[watch_id][0]
        self.connection.emit_signal(sender, PATH, NAME, 'WatchFired',
                                    GLib.Variant('(u)', (watch_id,)))

    def add(self, sender, interval):
        self.next_id += 1
        self.watches[self.next_id] = [sender, interval, False]
        return self.next_id

    def set_idletime(self, ms):
        self.idletime = ms
        for watch_id, watch in list(self.watches.items()):
            if watch[1] > 0 and not watch[2] and ms >= watch[1]:
                watch[2] = True
                self.fire(watch_id)

    def user_active(self):
        self.idletime = 0
        for watch_id, watch in list(self.watches.items()):
            if watch[1] == 0:
                self.fire(watch_id)
                del self.watches[watch_id]
            else:
                watch[2] = False

    def mutter_call(self, connection, sender, path, interface, method, params, invocation):
        if method == 'GetIdletime':
            invocation.return_value(GLib.Variant('(t)', (self.idletime,)))
        elif method == 'AddIdleWatch':
            interval, = params.unpack()
            if interval == 0:
                invocation.return_dbus_error('org.freedesktop.DBus.Error.InvalidArgs',
                                             'Invalid idle interval')
                return
            invocation.return_value(GLib.Variant('(u)', (self.add(sender, interval),)))
        elif method == 'AddUserActiveWatch':
            invocation.return_value(GLib.Variant('(u)', (self.add(sender, 0),)))
        else:
            watch_id, = params.unpack()
            self.watches.pop(watch_id, None)
            invocation.return_value(None)

    def control_call(self, connection, sender, path, interface, method, params, invocation):
        if method == 'SetIdletime':
            ms, = params.unpack()
            self.set_idletime(ms)
            invocation.return_value(None)
        elif method == 'UserActive':
            self.user_active()
            invocation.return_value(None)
        else:
            idle = sum(1 for w in self.watches.values() if w[1] > 0)
            active = sum(1 for w in self.watches.values() if w[1] == 0)
            invocation.return_value(GLib.Variant('(uu)', (idle, active)))


def main():
    loop = GLib.MainLoop()
    connection = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    monitor = IdleMonitor(connection)

    mutter = Gio.DBusNodeInfo.new_for_xml(MUTTER_XML).interfaces[0]
    control = Gio.DBusNodeInfo.new_for_xml(CONTROL_XML).interfaces[0]
    connection.register_object(PATH, mutter, monitor.mutter_call, None, None)
    connection.register_object(CONTROL_PATH, control, monitor.control_call, None, None)

    def acquired(*args):
        print('ready', flush=True)

    def lost(*args):
        print('idle-monitor.py: could not own %s' % NAME, file=sys.stderr)
        loop.quit()

    Gio.bus_own_name_on_connection(connection, NAME, Gio.BusNameOwnerFlags.NONE, acquired, lost)

    def stdin_closed(*args):
        loop.quit()
        return GLib.SOURCE_REMOVE

    GLib.io_add_watch(sys.stdin.fileno(), GLib.PRIORITY_DEFAULT, GLib.IO_HUP | GLib.IO_IN,
                      stdin_closed)
    loop.run()
    return 0


if __name__ == '__main__':
    sys.exit(main())
