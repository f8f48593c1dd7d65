# Sourced by the bench scripts: what each of them needs the same way.

wait_http() { # url pid: until the URL answers 2xx, while the process lives
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { echo "server died" >&2; return 1; }
    sleep 0.1
  done
  echo "timed out waiting for $1" >&2; return 1
}
