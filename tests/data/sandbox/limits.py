# limits.py: the limits and the view a program gets inside Kiln's sandbox.
#
#   python3 -c "$(cat limits.py)" [PATH...]
#
# Prints one JSON object: its scheduling, nice value, data and core limits, how many
# CPUs it may run on, its effective capabilities, the host name, which of a few
# private places and of the PATHs given it can see, and its environment's names.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import json
import os
import resource
import socket
import sys

with open('/proc/self/status') as f:
    status = dict(line.split(':', 1) for line in f if ':' in line)
private = ['/etc/passwd', '/etc/shadow', '/root', '/home', '/var', '/run'] + sys.argv[1:]
print(json.dumps({
    'idle': os.sched_getscheduler(0) == os.SCHED_IDLE,
    'nice': os.getpriority(os.PRIO_PROCESS, 0),
    'data': resource.getrlimit(resource.RLIMIT_DATA)[0],
    'core': resource.getrlimit(resource.RLIMIT_CORE)[0],
    'cpus': len(os.sched_getaffinity(0)),
    'caps': int(status['CapEff'].strip(), 16),
    'hostname': socket.gethostname(),
    'visible': [p for p in private if os.path.exists(p)],
    'env': sorted(os.environ),
}))
