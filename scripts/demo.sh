#!/usr/bin/env bash
# The demo, end to end with embedded defaults: set-up, then winsmith's commands on a sample image.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh
ws() { echo "\$ winsmith $*" >&2; "$root/bin/winsmith" "$@"; }

out="$root/demo-out"
rm -rf "$out"
mkdir -p "$out"
ws --version

# A Windows Server 2022-like sample image, made from nothing; every later stage runs on it.
ws sample -o "$out/sample.wim"
ws image info "$out/sample.wim"
