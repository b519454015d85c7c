# escape-attempts.py: what a scene's code would try if it ran inside Kiln's sandbox.
#
#   python3 -c "$(cat escape-attempts.py)" MARKER_DIR SCENE_DIR PORT [SECRET]
#
# Writes outside the sandbox (into MARKER_DIR), beside the scene, into /usr, into /,
# into $HOME and into the work folder (the current one); reads SECRET; connects to
# 127.0.0.1:PORT; lists the network interfaces. Prints one JSON object: for each
# attempt "written", "connected" or the file's text, else the error it met.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import json
import os
import socket
import sys

marker_dir, scene_dir, port = sys.argv[1:4]
secret = sys.argv[4] if len(sys.argv) > 4 else None
result = {}


def write(key, path):
    try:
        with open(path, 'w') as f:
            f.write('escaped')
        result[key] = 'written'
    except OSError as e:
        result[key] = e.strerror


write('outside', os.path.join(marker_dir, 'written-outside'))
write('beside', os.path.join(scene_dir, 'written-beside-scene'))
write('usr', '/usr/kiln-escape')
write('root', '/kiln-escape')
write('home', os.path.expanduser('~/kiln-hostile-home'))
write('work', 'allowed.txt')
if secret is not None:
    try:
        with open(secret) as f:
            result['secret'] = f.read()
    except OSError as e:
        result['secret'] = e.strerror
try:
    socket.create_connection(('127.0.0.1', int(port)), timeout=3).close()
    result['socket'] = 'connected'
except OSError as e:
    result['socket'] = e.strerror or str(e)
result['interfaces'] = [name for _, name in socket.if_nameindex()]
print(json.dumps(result))
