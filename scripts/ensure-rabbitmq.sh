#!/usr/bin/env bash
# Starts the local RabbitMQ when it is down and waits until it accepts connections.
set -euo pipefail

if ! rabbitmqctl -q status >/dev/null 2>&1; then
  echo "==> starting RabbitMQ" >&2
  rabbitmq-server -detached >&2 || true
fi
timeout 120 rabbitmqctl -q await_startup >&2
