#!/usr/bin/env bash
# kubectl, for the test that renders k8s/ with `kubectl kustomize` (offline; no cluster needed).
set -euo pipefail
if command -v kubectl >/dev/null 2>&1; then
  echo "kubectl: $(kubectl version --client 2>/dev/null | head -n1)"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Debian's own package is kubernetes-client; a machine with Kubernetes's apt repository has kubectl.
apt-get install -y -qq --no-install-recommends kubectl >/dev/null 2>&1 || apt-get install -y -qq --no-install-recommends kubernetes-client >/dev/null
echo "kubectl: $(kubectl version --client 2>/dev/null | head -n1)"
