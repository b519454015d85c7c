#!/usr/bin/python3
# clipboard.py: prints the text on the clipboard of the display in $DISPLAY, as another
# program would paste it (GTK 4 over X11), or exits 1 when there is none.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import sys

import gi

gi.require_version('Gdk', '4.0')
gi.require_version('Gtk', '4.0')
from gi.repository import Gdk, GLib, Gtk  # noqa: E402


def main():
    display = Gdk.Display.get_default() if Gtk.init_check() else None
    if display is None:
        print('clipboard.py: cannot open the display', file=sys.stderr)
        return 1
    loop = GLib.MainLoop()
    found = []

    def done(clipboard, result):
        try:
            found.append(clipboard.read_text_finish(result))
        except GLib.Error as error:
            print('clipboard.py: %s' % error.message, file=sys.stderr)
        loop.quit()

    display.get_clipboard().read_text_async(None, done)
    GLib.timeout_add_seconds(5, loop.quit)
    loop.run()
    if not found or not found[0]:
        return 1
    print(found[0])
    return 0


if __name__ == '__main__':
    sys.exit(main())
