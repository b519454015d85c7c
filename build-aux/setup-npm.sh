#!/bin/sh
# Installs the devnet's npm packages (anvil, solc, ethers) from the committed lock file.
# Run from the repository root. Quiet when node_modules is already up to date.
set -eu

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup-npm: Node.js and npm are needed for the local devnet; install them with:" >&2
  echo "  sudo apt-get install nodejs npm" >&2
  exit 1
fi

if [ ! -f package-lock.json ]; then
  echo "setup-npm: run this from the repository root (package-lock.json not found)" >&2
  exit 1
fi

# npm writes node_modules/.package-lock.json after every successful install: it is missing or
# older than the lock file when node_modules is absent, half-installed or out of date.
stamp=node_modules/.package-lock.json
if [ -f "$stamp" ] && [ ! package-lock.json -nt "$stamp" ] && [ ! package.json -nt "$stamp" ]; then
  exit 0
fi

echo "setup-npm: installing the devnet's npm packages"
# No install scripts: anvil's binary comes in its platform package, nothing else needs one.
if ! npm ci --no-audit --no-fund --ignore-scripts --loglevel=error; then
  echo "setup-npm: npm ci failed" >&2
  exit 1
fi
touch "$stamp"
