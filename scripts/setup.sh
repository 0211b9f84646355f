#!/usr/bin/env bash
# Installs what winsmith needs, idempotently: missing Debian packages, npm dependencies (Node 24
# comes with them, from the npm registry), and the build. Safe to run again at any time.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

missing=()
while read -r pkg; do
  [[ -z "$pkg" || "$pkg" == \#* ]] && continue
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done < scripts/system-packages.txt

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "winsmith needs these Debian packages; run as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -x node_modules/.bin/node || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: installing npm dependencies" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

export PATH="$root/node_modules/.bin:$PATH"
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [[ "$node_major" -lt 24 ]]; then
  echo "setup: expected Node 24 in node_modules/.bin, found $(node --version); remove node_modules and run again" >&2
  exit 1
fi

tsc -p tsconfig.build.json
# The web console (web/), bundled into dist/console/, which `winsmith server` serves at /.
vite build web --logLevel warn

# native/: the programs winsmith builds against C libraries (src/engines/programs.ts), rebuilt when
# their source is newer than the build.
mkdir -p build
if [[ native/wim.c -nt build/winsmith-wim ]]; then
  cc -O2 -Wall -Wextra -Werror -o build/winsmith-wim native/wim.c -lwim
fi
