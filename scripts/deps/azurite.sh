#!/usr/bin/env bash
# Azurite (the Azure Storage emulator, from npm) for the tests that run silo processes on Azure Table storage.
# 3.35.0 is the last release whose engines field accepts node 20.
set -euo pipefail
version=3.35.0
if command -v azurite-table >/dev/null 2>&1 && [ "$(azurite-table --version 2>/dev/null)" = "$version" ]; then
  echo "azurite-table: $version"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
npm install -g --no-fund --no-audit --loglevel=error "azurite@$version" >/dev/null
echo "azurite-table: $(azurite-table --version)"
