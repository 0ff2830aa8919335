#!/usr/bin/env bash
# Installs what the test suite needs beyond the .NET SDK (servers, browsers, emulators). Each file in
# scripts/deps/ installs one thing and is safe to run again when it is already there. CI calls this first.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
for step in "$here"/deps/*.sh; do
  [ -e "$step" ] || continue
  echo "== $(basename "$step")"
  bash "$step"
done
