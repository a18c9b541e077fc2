#!/usr/bin/env bash
# Installs what `npm run bench` compares against; rows whose tools are missing are skipped.
#   load generators: wrk, httperf (Debian)      Python servers: gunicorn, uwsgi + gevent (Debian)
#   PM2: into bench/.tools (not a dependency of tsgun)
set -euo pipefail
cd "$(dirname "$0")"
if command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    wrk httperf util-linux gunicorn python3-gevent uwsgi uwsgi-plugin-python3 uwsgi-plugin-gevent-python3 >/dev/null
fi
npm install --no-audit --no-fund --prefix .tools pm2@7 >/dev/null
echo "bench tools installed"
