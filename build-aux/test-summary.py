#!/usr/bin/env python3
"""Counts test cases from meson's test log and prints "N passed, N failed".

A TAP test (every GTest program runs with --tap; meson's log does not always
say which protocol a test used, so TAP is recognised by its plan line) counts
each of its top-level cases; any other test counts as one. Skipped cases are neither passed nor failed,
nor are TODO cases (work still to do that the test reports without failing, as TAP says)."""

import json
import re
import sys

TAP_LINE = re.compile(r'^(not ok|ok)\b(.*)$')
TAP_PLAN = re.compile(r'^(TAP version \d+|1\.\.\d+)', re.MULTILINE)

passed = failed = todo = 0
try:
    with open(sys.argv[1], encoding='utf-8') as log:
        entries = [json.loads(line) for line in log if line.strip()]
except OSError as e:
    print(f'no test log: {e}', file=sys.stderr)
    entries = []

for entry in entries:
    result = entry.get('result', '')
    cases_ok = cases_failed = 0
    stdout = entry.get('stdout') or ''
    if entry.get('protocol') == 'tap' or TAP_PLAN.search(stdout):
        for line in stdout.splitlines():
            m = TAP_LINE.match(line)
            if not m:
                continue
            rest = m.group(2)
            if '# SKIP' in rest.upper():
                continue
            if '# TODO' in rest.upper():
                todo += 1
                continue
            if m.group(1) == 'ok':
                cases_ok += 1
            else:
                cases_failed += 1
    if cases_ok + cases_failed == 0:
        if result in ('OK', 'EXPECTEDFAIL'):
            cases_ok = 1
        elif result != 'SKIP':
            cases_failed = 1
    elif result not in ('OK', 'EXPECTEDFAIL', 'SKIP') and cases_failed == 0:
        # crashed or timed out after its last reported case
        cases_failed = 1
    passed += cases_ok
    failed += cases_failed

if not entries:
    failed += 1
if todo:
    print(f'{todo} to do (reported by the tests, not failures)')
print(f'{passed} passed, {failed} failed')
sys.exit(1 if failed else 0)
