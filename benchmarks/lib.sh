# Shared set-up for the benchmark scripts: release binaries and a throw-away local Redis.
# Sets $bin, $work and $port; cleans up on exit (callers add to `cleanup` for more).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin=$(scripts/build-release | tail -1)
work=$(mktemp -d /tmp/jobwatch-bench.XXXXXX)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
cleanup=":"
trap 'eval "$cleanup"; redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
redis-server --port "$port" --bind 127.0.0.1 --save '' --dir "$work" --daemonize yes --logfile "$work/redis.log"
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.05; done
echo "" > "$work/jobwatch.yaml"
export JOBWATCH_CONFIG="$work/jobwatch.yaml" JOBWATCH_REDIS="redis://127.0.0.1:$port/0" JOBWATCH_JOBS_DIR="$work" \
       JOBWATCH_SPOOL_DIR="$work/spool"
