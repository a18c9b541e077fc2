#!/usr/bin/env bash
# Router mode against its baselines, each an ABBA A/B in one run (`npm run bench -- --compare`),
# written into docs/benchmarks.md ("The router's cost"): tsgun's router against a minimal undici proxy (the
# least a Node router can be), the other candidates against that proxy (http-proxy-3 over an agent
# and on its fetch path, plain http.request over a keep-alive agent), and tsgun's router
# against direct mode and uWSGI's router, and what a second router process adds.
# Usage: bash bench/router-ratios.sh [PAIRS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
pairs="${1:-6}"
seconds="${2:-3}"
npm run build >/dev/null
compare() { node dist/bench/run.js --compare "$1" --pairs "$pairs" --duration "$seconds" --docs; }
compare undici,tsgun-router
compare undici-ka,tsgun-router-ka
compare proxy3,undici
compare proxy3-ka,undici-ka
compare undici,proxy3-fetch
compare undici-ka,proxy3-fetch-ka
compare undici,nodehttp
compare undici-ka,nodehttp-ka
compare tsgun,tsgun-router
compare tsgun-ka,tsgun-router-ka
compare tsgun-router-ka,tsgun-router2-ka
if command -v uwsgi >/dev/null 2>&1; then
  compare uwsgi-http,tsgun-router
else
  echo "uwsgi not installed (bench/setup.sh): no comparison with uWSGI's router"
fi
node dist/bench/router-summary.js --docs
