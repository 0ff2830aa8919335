#!/usr/bin/env bash
# A local cluster in one command: a store (redis-server or Azurite's table service) and N silo processes on
# 127.0.0.1, each started in the background and stopped by its process id.
#
#   scripts/cluster.sh up [--store redis|azuretable] [--silos N] [--cluster-id ID]
#   scripts/cluster.sh down
#   scripts/cluster.sh status
#
# State (process ids and logs; the store keeps its data in memory) lives in $CLUSTER_DIR (default .cluster/ in the repository).
# Ports: Redis $REDIS_PORT (6379), Azurite table $AZURITE_PORT (10002), silo i on $SILO_PORT_BASE+i (11110+i),
# its gateway on $GATEWAY_PORT_BASE+i (30000+i).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
dir="${CLUSTER_DIR:-$repo/.cluster}"
redis_port="${REDIS_PORT:-6379}"
azurite_port="${AZURITE_PORT:-10002}"
silo_base="${SILO_PORT_BASE:-11110}"
gateway_base="${GATEWAY_PORT_BASE:-30000}"

usage() { sed -n '5,8p' "$0" | sed 's/^# *//' >&2; exit 2; }

start() { # name, command...: starts it in the background, logging to $dir/name.log, its pid in $dir/name.pid
  local name=$1; shift
  "$@" >"$dir/$name.log" 2>&1 &
  echo $! >"$dir/$name.pid"
}

wait_port() { # port, what
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  echo "error: $2 did not listen on 127.0.0.1:$1 (see $dir)" >&2
  return 1
}

up() {
  local store=redis silos=3 cluster_id=scheduler
  while [ $# -gt 0 ]; do
    case "$1" in
      --store) store="${2:?}"; shift 2 ;;
      --silos) silos="${2:?}"; shift 2 ;;
      --cluster-id) cluster_id="${2:?}"; shift 2 ;;
      *) usage ;;
    esac
  done
  case "$silos" in ''|*[!0-9]*) echo "error: --silos must be a number" >&2; exit 2 ;; esac
  if ls "$dir"/*.pid >/dev/null 2>&1; then
    echo "error: a cluster is already up (scripts/cluster.sh down first)" >&2
    exit 1
  fi
  mkdir -p "$dir"
  local connection
  case "$store" in
    redis)
      command -v redis-server >/dev/null || { echo "error: redis-server is not installed (scripts/deps/redis.sh)" >&2; exit 1; }
      start store redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no
      wait_port "$redis_port" redis-server || { down >/dev/null; exit 1; }
      connection="127.0.0.1:$redis_port" ;;
    azuretable)
      command -v azurite-table >/dev/null || { echo "error: azurite-table is not installed (scripts/deps/azurite.sh)" >&2; exit 1; }
      start store azurite-table --tableHost 127.0.0.1 --tablePort "$azurite_port" --inMemoryPersistence --skipApiVersionCheck --disableProductStyleUrl
      wait_port "$azurite_port" azurite-table || { down >/dev/null; exit 1; }
      if [ "$azurite_port" = 10002 ]; then connection="UseDevelopmentStorage=true"; else connection="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:$azurite_port/devstoreaccount1;"; fi ;;
    *) echo "error: --store must be redis or azuretable" >&2; exit 2 ;;
  esac
  local silo="${SCHEDULER_SILO_DLL:-$repo/src/Silo/bin/Release/net10.0/Scheduler.Silo.dll}"
  if [ -z "${SCHEDULER_SILO_DLL:-}" ]; then
    dotnet build "$repo/src/Silo" -c Release -v quiet -nologo >"$dir/build.log" 2>&1 || { echo "error: the silo did not build (see $dir/build.log)" >&2; down; exit 1; }
  fi
  for i in $(seq 1 "$silos"); do
    start "silo$i" dotnet "$silo" --store "$store" --connection "$connection" --cluster-id "$cluster_id" \
      --silo-port $((silo_base + i)) --gateway-port $((gateway_base + i))
  done
  for i in $(seq 1 "$silos"); do wait_port $((gateway_base + i)) "silo $i" || { down >/dev/null; exit 1; }; done
  echo "$store=$connection" >"$dir/connect"
  echo "up: $silos silo(s) on $store, cluster id $cluster_id. Run a scenario with:"
  echo "  dotnet run --project src/Client -- simulate scenarios/quickstart.yaml --connect '$store=$connection' --cluster-id $cluster_id"
}

down() {
  [ -d "$dir" ] || { echo "down: no cluster"; return 0; }
  local pids=()
  for f in "$dir"/silo*.pid "$dir"/store.pid; do
    [ -e "$f" ] || continue
    pids+=("$(cat "$f")")
  done
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -f "$dir"/*.pid "$dir/connect"
  echo "down: stopped ${#pids[@]} process(es)"
}

status() {
  for f in "$dir"/*.pid; do
    [ -e "$f" ] || { echo "no cluster"; return 0; }
    local pid; pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then echo "$(basename "$f" .pid): running (pid $pid)"; else echo "$(basename "$f" .pid): gone (pid $pid)"; fi
  done
  [ -e "$dir/connect" ] && echo "connect: $(cat "$dir/connect")"
}

case "${1:-}" in
  up) shift; up "$@" ;;
  down) down ;;
  status) status ;;
  *) usage ;;
esac
