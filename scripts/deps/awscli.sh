#!/usr/bin/env bash
# The AWS CLI (v1) for the live API's end-to-end tests: they drive `serve` with the unmodified `aws ecs ...`.
set -euo pipefail
if command -v aws >/dev/null 2>&1 && python3 -c "import botocore.auth" >/dev/null 2>&1; then
  echo "aws already installed: $(aws --version 2>&1)"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq awscli >/dev/null
echo "installed $(aws --version 2>&1)"
