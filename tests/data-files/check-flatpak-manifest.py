#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks flatpak-builder manifests without building them.

    check-flatpak-manifest.py [--meson-root DIR] MANIFEST.json...
    check-flatpak-manifest.py --self-test DIR

Each manifest must parse as JSON, carry the keys a GNOME app needs, match its file name,
ask for no broad permission, and pin every source: a remote archive or file has a sha256,
a git source has a commit, and every local path names something that exists. Modules kept
in their own files, and the modules nested in them, are checked the same way. Output is
TAP, one case per manifest.

One permission that reaches outside the sandbox is allowed only when it is justified:
--talk-name=org.freedesktop.Flatpak (flatpak-spawn --host: the app may run any command on
the computer). The manifest must give its reason in "x-finish-args-reasons" (an object
from finish-arg to reason; flatpak-builder keeps x- members and ignores them), and the
README.md beside the manifest must document it in a permissions table row and say how to
take it away (flatpak override --no-talk-name=...). A wildcard talk name that would cover
it, and org.freedesktop.systemd1 (transient units run commands on the computer too), are
refused outright.

With --meson-root, the libraries that the meson project in DIR requires (its top-level,
src/ and data/ meson.build files; optional ones left out) must each come from the runtime
or from a module of the manifest, so that a new dependency cannot be forgotten there.

With --self-test, every *.json in DIR is a manifest that must be rejected; its
"x-expect-error" member (ignored by flatpak-builder) holds a piece of the error message it
must be rejected with, and its optional "x-meson-root" names a project folder, relative to
DIR, to check the manifest against. A fixture that is not JSON at all must be rejected as
such."""

import json
import os
import re
import sys

APP_ID = re.compile(r'^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*){2,}$')
SHA256 = re.compile(r'^[0-9a-f]{64}$')
GIT_COMMIT = re.compile(r'^[0-9a-f]{40}$')

REQUIRED_KEYS = ('runtime', 'runtime-version', 'sdk', 'command', 'finish-args', 'modules')

# Permissions that would hand the app much more than it needs.
FORBIDDEN_ARGS = {
    '--filesystem=host': 'the whole file system',
    '--filesystem=host-os': 'the host system',
    '--filesystem=host-etc': 'the host /etc',
    '--filesystem=home': 'the whole home folder',
    '--socket=session-bus': 'the whole session bus',
    '--socket=system-bus': 'the whole system bus',
    '--device=all': 'every device',
}

# Talk names that let the app run commands on the computer outside its sandbox.
HOST_COMMAND_NAMES = {
    # flatpak-spawn --host (org.freedesktop.Flatpak.Development.HostCommand)
    'org.freedesktop.Flatpak': 'justified',
    # StartTransientUnit runs any command as the user
    'org.freedesktop.systemd1': 'refused',
}

# pkg-config modules that org.gnome.Platform and org.gnome.Sdk provide.
RUNTIME_LIBRARIES = {
    'glib-2.0', 'gio-2.0', 'gio-unix-2.0', 'gobject-2.0', 'json-glib-1.0', 'libsecret-1',
    'nettle', 'hogweed', 'libcrypto', 'libssl', 'openssl', 'libsoup-3.0', 'sqlite3', 'gnutls',
    'libpng', 'gtk4', 'libadwaita-1', 'zlib',
}

# pkg-config modules that the runtime lacks, and the manifest module that must build each.
MODULE_LIBRARIES = {
    'libsecp256k1': 'libsecp256k1',
    'libqrencode': 'libqrencode',
    'opendht-c': 'opendht',
}

SOURCE_TYPES = {
    'archive', 'file', 'git', 'bzr', 'svn', 'dir', 'patch', 'script', 'shell', 'inline',
    'extra-data',
}


class ManifestError(Exception):
    pass


def local_path(base, path, what):
    full = os.path.normpath(os.path.join(base, path))
    if not os.path.exists(full):
        raise ManifestError(f'{what}: local path "{path}" does not exist ({full})')
    return full


def check_source(base, source, where):
    if isinstance(source, str):
        # A file holding more sources.
        full = local_path(base, source, where)
        with open(full, encoding='utf-8') as f:
            try:
                more = json.load(f)
            except json.JSONDecodeError as e:
                raise ManifestError(f'{where}: {source} is not valid JSON: {e}') from e
        if isinstance(more, dict):
            more = [more]
        for i, s in enumerate(more):
            check_source(os.path.dirname(full), s, f'{where}:{source}[{i}]')
        return
    if not isinstance(source, dict):
        raise ManifestError(f'{where}: a source must be an object or a file name')

    kind = source.get('type')
    if kind not in SOURCE_TYPES:
        raise ManifestError(f'{where}: unknown source type {kind!r}')

    # Where a source has both, flatpak-builder takes the url over the path.
    if kind in ('archive', 'file'):
        if 'url' in source:
            if not SHA256.match(source.get('sha256', '')):
                raise ManifestError(f'{where}: {kind} source {source["url"]} has no sha256')
        elif 'path' in source:
            local_path(base, source['path'], where)
        else:
            raise ManifestError(f'{where}: {kind} source has neither url nor path')
    elif kind == 'git':
        if 'url' not in source:
            if 'path' not in source:
                raise ManifestError(f'{where}: git source has neither url nor path')
            local_path(base, source['path'], where)
        if not GIT_COMMIT.match(source.get('commit', '')):
            name = source.get('url', source.get('path'))
            raise ManifestError(f'{where}: git source {name} has no commit')
    elif kind in ('bzr', 'svn'):
        if not source.get('revision'):
            raise ManifestError(f'{where}: {kind} source {source.get("url")} has no revision')
    elif kind == 'dir':
        if 'path' not in source:
            raise ManifestError(f'{where}: dir source has no path')
        if not os.path.isdir(os.path.join(base, source['path'])):
            raise ManifestError(f'{where}: dir source "{source["path"]}" is not a folder')
    elif kind == 'patch':
        paths = source.get('paths', [])
        if 'path' in source:
            paths = [source['path']] + paths
        if not paths:
            raise ManifestError(f'{where}: patch source has no path')
        for p in paths:
            local_path(base, p, where)
    elif kind == 'extra-data':
        if not SHA256.match(source.get('sha256', '')):
            raise ManifestError(f'{where}: extra-data source has no sha256')


def check_module(base, module, where):
    if isinstance(module, str):
        full = local_path(base, module, where)
        with open(full, encoding='utf-8') as f:
            try:
                module = json.load(f)
            except json.JSONDecodeError as e:
                raise ManifestError(f'{where}: {full} is not valid JSON: {e}') from e
        base = os.path.dirname(full)
    if not isinstance(module, dict):
        raise ManifestError(f'{where}: a module must be an object or a file name')
    name = module.get('name')
    if not name:
        raise ManifestError(f'{where}: module has no name')
    where = f'{where}/{name}'
    sources = module.get('sources', [])
    if not sources:
        raise ManifestError(f'{where}: module has no sources')
    for i, source in enumerate(sources):
        check_source(base, source, f'{where}: source {i}')
    for sub in module.get('modules', []):
        check_module(base, sub, where)


def module_names(base, modules):
    """Every module name of a manifest, modules kept in files and nested modules included."""
    names = set()
    for module in modules:
        mbase = base
        if isinstance(module, str):
            full = os.path.normpath(os.path.join(base, module))
            with open(full, encoding='utf-8') as f:
                module = json.load(f)
            mbase = os.path.dirname(full)
        names.add(module.get('name'))
        names |= module_names(mbase, module.get('modules', []))
    return names


def call_arguments(text, start):
    """The text between the parenthesis at text[start] and the one that closes it."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == '(':
            depth += 1
        elif text[i] == ')':
            depth -= 1
            if depth == 0:
                return text[start + 1:i]
    raise ManifestError('unbalanced parentheses in a meson.build file')


def meson_dependencies(root):
    """The required dependency('name') calls of the project's top-level, src/ and data/."""
    files = [os.path.join(root, 'meson.build')]
    for sub in ('src', 'data'):
        for folder, _, names in sorted(os.walk(os.path.join(root, sub))):
            files += [os.path.join(folder, n) for n in sorted(names) if n == 'meson.build']
    deps = {}
    for path in files:
        if not os.path.exists(path):
            continue
        with open(path, encoding='utf-8') as f:
            text = re.sub(r'#[^\n]*', '', f.read())
        for m in re.finditer(r'\bdependency\s*\(', text):
            args = call_arguments(text, m.end() - 1)
            name = re.match(r"\s*'([^']+)'", args)
            if not name or re.search(r'required\s*:\s*false', args):
                continue
            deps.setdefault(name.group(1), os.path.relpath(path, root))
    if not deps:
        raise ManifestError(f'no dependency() calls found under {root}')
    return deps


def check_dependencies(base, modules, meson_root):
    names = module_names(base, modules)
    for dep, where in sorted(meson_dependencies(meson_root).items()):
        if dep in RUNTIME_LIBRARIES:
            continue
        module = MODULE_LIBRARIES.get(dep)
        if module is None:
            raise ManifestError(f'{where} needs {dep}, which is neither in the runtime nor '
                                'known to come from a module (see MODULE_LIBRARIES)')
        if module not in names:
            raise ManifestError(f'{where} needs {dep}, but no module "{module}" builds it')


def documented_in_readme(readme, arg):
    """Whether README.md has a permissions table row for arg with a reason, and says how
    to remove it again."""
    name = arg.split('=', 1)[1]
    try:
        with open(readme, encoding='utf-8') as f:
            text = f.read()
    except OSError:
        return False
    documented = False
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if line.lstrip().startswith('|') and len(cells) >= 2 and f'`{arg}`' in cells[0] \
                and cells[1]:
            documented = True
    return documented and f'--no-talk-name={name}' in text


def check_host_command_args(path, manifest, args):
    reasons = manifest.get('x-finish-args-reasons', {})
    if not isinstance(reasons, dict):
        raise ManifestError('"x-finish-args-reasons" must map finish-args to reasons')
    for arg in args:
        kind, _, name = arg.partition('=')
        if kind not in ('--talk-name', '--system-talk-name', '--own-name'):
            continue
        if name.endswith('*'):
            prefix = name[:-1]
            covered = [n for n in HOST_COMMAND_NAMES if n.startswith(prefix)]
            if covered:
                raise ManifestError(f'finish-args: {arg} covers {covered[0]}, which lets '
                                    'the app run commands outside its sandbox')
            continue
        policy = HOST_COMMAND_NAMES.get(name)
        if policy is None:
            continue
        if policy == 'refused' or kind != '--talk-name':
            raise ManifestError(f'finish-args: {arg} would let the app run any command '
                                'outside its sandbox')
        reason = reasons.get(arg)
        if not isinstance(reason, str) or not reason.strip():
            raise ManifestError(f'finish-args: {arg} lets the app run any command outside '
                                'its sandbox, and "x-finish-args-reasons" gives no reason '
                                'for it')
        readme = os.path.join(os.path.dirname(os.path.abspath(path)), 'README.md')
        if not documented_in_readme(readme, arg):
            raise ManifestError(f'finish-args: {arg} lets the app run any command outside '
                                f'its sandbox, and it is not documented in {readme} (a '
                                'permissions table row, and how to remove it with '
                                f'--no-talk-name={name})')
    for arg in reasons:
        if arg not in args:
            raise ManifestError(f'"x-finish-args-reasons" explains {arg}, which is not '
                                'in finish-args')


def check_manifest(path, meson_root=None):
    try:
        with open(path, encoding='utf-8') as f:
            manifest = json.load(f)
    except json.JSONDecodeError as e:
        raise ManifestError(f'not valid JSON: {e}') from e
    if not isinstance(manifest, dict):
        raise ManifestError('the manifest is not a JSON object')

    app_id = manifest.get('id', manifest.get('app-id'))
    if not app_id:
        raise ManifestError('no "id"')
    if not APP_ID.match(app_id):
        raise ManifestError(f'"{app_id}" is not a valid application ID')
    stem = os.path.basename(path)
    if stem.endswith('.json'):
        stem = stem[:-len('.json')]
    if stem != app_id:
        raise ManifestError(f'id {app_id} does not match the file name {os.path.basename(path)}')
    for key in REQUIRED_KEYS:
        if key not in manifest:
            raise ManifestError(f'no "{key}"')

    args = manifest['finish-args']
    for arg in args:
        if arg in FORBIDDEN_ARGS:
            raise ManifestError(f'finish-args: {arg} would give the app {FORBIDDEN_ARGS[arg]}')
    if '--socket=x11' in args and '--socket=wayland' in args:
        raise ManifestError('finish-args: use --socket=fallback-x11 next to --socket=wayland')
    check_host_command_args(path, manifest, args)

    modules = manifest['modules']
    if not modules:
        raise ManifestError('no modules')
    base = os.path.dirname(os.path.abspath(path))
    for i, module in enumerate(modules):
        check_module(base, module, f'module {i}')

    # The last module is the application itself and must build this checkout.
    last = modules[-1]
    if isinstance(last, dict):
        if last.get('buildsystem') != 'meson':
            raise ManifestError(f'module {last.get("name")}: the app builds with meson')
    if meson_root is not None:
        check_dependencies(base, modules, meson_root)
    return manifest


def run_checks(paths, meson_root=None):
    print(f'1..{len(paths)}')
    failed = 0
    for n, path in enumerate(paths, 1):
        try:
            check_manifest(path, meson_root)
            print(f'ok {n} - {os.path.basename(path)}')
        except (OSError, ManifestError) as e:
            failed += 1
            print(f'not ok {n} - {os.path.basename(path)}: {e}')
    return 1 if failed else 0


def run_self_test(folder):
    paths = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith('.json'))
    if not paths:
        print('Bail out! no manifests in ' + folder)
        return 1
    print(f'1..{len(paths)}')
    failed = 0
    for n, path in enumerate(paths, 1):
        name = os.path.basename(path)
        expected = None
        meson_root = None
        try:
            with open(path, encoding='utf-8') as f:
                fixture = json.load(f)
            expected = fixture.get('x-expect-error')
            if fixture.get('x-meson-root'):
                meson_root = os.path.join(folder, fixture['x-meson-root'])
        except (OSError, json.JSONDecodeError, AttributeError):
            pass
        if not expected:
            # A fixture that cannot be read as JSON must be rejected for exactly that.
            expected = 'not valid JSON'
        try:
            check_manifest(path, meson_root)
            failed += 1
            print(f'not ok {n} - {name}: accepted, expected "{expected}"')
        except ManifestError as e:
            if expected in str(e):
                print(f'ok {n} - {name}: rejected: {e}')
            else:
                failed += 1
                print(f'not ok {n} - {name}: rejected with "{e}", expected "{expected}"')
    return 1 if failed else 0


def main(argv):
    if len(argv) == 3 and argv[1] == '--self-test':
        return run_self_test(argv[2])
    meson_root = None
    if len(argv) >= 3 and argv[1] == '--meson-root':
        meson_root = argv[2]
        argv = argv[:1] + argv[3:]
    if len(argv) < 2 or argv[1].startswith('-'):
        print(__doc__, file=sys.stderr)
        return 2
    return run_checks(argv[1:], meson_root)


if __name__ == '__main__':
    sys.exit(main(sys.argv))
