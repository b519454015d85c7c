#!/usr/bin/python3
# drag-source.py FILE: a window titled "Drag Source" whose label can be dragged onto another
# window, carrying FILE as a file manager's drag does (a GdkFileList: text/uri-list on X11).
#
# SPDX-License-Identifier: GPL-3.0-or-later

import sys

import gi
gi.require_version('Gdk', '4.0')
gi.require_version('Gtk', '4.0')
from gi.repository import Gdk, Gio, GObject, Gtk  # noqa: E402


def on_activate(app):
    window = Gtk.ApplicationWindow(application=app, title='Drag Source')
    window.set_default_size(200, 120)
    label = Gtk.Label(label='Drag me')
    files = Gdk.FileList.new_from_list([Gio.File.new_for_path(sys.argv[1])])
    source = Gtk.DragSource(actions=Gdk.DragAction.COPY)
    source.set_content(Gdk.ContentProvider.new_for_value(GObject.Value(Gdk.FileList, files)))
    label.add_controller(source)
    window.set_child(label)
    window.present()


def main():
    if len(sys.argv) != 2:
        print('usage: drag-source.py FILE', file=sys.stderr)
        return 2
    app = Gtk.Application(application_id='io.github.kilnapp.KilnTestDragSource',
                          flags=Gio.ApplicationFlags.NON_UNIQUE)
    app.connect('activate', on_activate)
    return app.run([sys.argv[0]])


if __name__ == '__main__':
    sys.exit(main())
