#!/usr/bin/env bash
# Proves the production path without Docker: a clean copy of the repository with production
# dependencies only (`npm ci --omit=dev`) starts `serve` against a local fake model server,
# answers /healthz and /metrics, and exits 0 on SIGTERM.
#
# The project pins Node 24 through the `node` devDependency, which a production install leaves
# out; production hosts bring their own Node 24 (the Docker image does). Here the Node 24 of the
# main checkout's dev install plays that part, so only the copy's production dependencies are used.
#
# Usage: deploy/ci-production-check.sh        (from anywhere; needs a dev install in the checkout)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
node="$repo/node_modules/.bin/node"
[[ -x "$node" ]] || { echo "ci-production-check: $node missing: run npm ci in $repo first" >&2; exit 2; }
git -C "$repo" rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
  { echo "ci-production-check: $repo is not a git checkout (the copy is made from git ls-files)" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/cir-prod-check.XXXXXX")"
fake_pid=""
bot_pid=""
cleanup() {
  [[ -n "$bot_pid" ]] && kill -KILL "$bot_pid" 2>/dev/null || true
  [[ -n "$fake_pid" ]] && kill -TERM "$fake_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "ci-production-check: FAIL: $*" >&2
  if [[ -f "$work/serve.log" ]]; then echo "--- serve log (last 40 lines) ---" >&2; tail -n 40 "$work/serve.log" >&2; fi
  exit 1
}

echo "ci-production-check: copying tracked files to $work/app"
mkdir -p "$work/app"
# Tracked plus new, not ignored files (so it also works before a commit); deleted ones are skipped.
(cd "$repo" && git ls-files -z --cached --others --exclude-standard) |
  (cd "$repo" && tar --null --files-from=- --ignore-failed-read -cf - 2>/dev/null) |
  tar -xf - -C "$work/app"
[[ -f "$work/app/src/main.ts" ]] || fail "the copy has no src/main.ts"
[[ ! -e "$work/app/.env" ]] || fail ".env was copied"

echo "ci-production-check: npm ci --omit=dev"
(cd "$work/app" && npm ci --omit=dev --no-audit --no-fund --loglevel=error) >"$work/npm.log" 2>&1 ||
  { cat "$work/npm.log" >&2; fail "npm ci --omit=dev failed"; }
[[ ! -e "$work/app/node_modules/typescript" ]] || fail "dev dependencies were installed"
[[ ! -e "$work/app/node_modules/node" ]] || fail "the node devDependency was installed"

# The fake model server (the tests' own, speaking the real protocol on 127.0.0.1).
"$node" --input-type=module -e "
  import { startFakeLlm } from '$repo/test/fakes/llm.ts';
  const llm = await startFakeLlm([]);
  console.log(llm.baseUrl);
  process.on('SIGTERM', async () => { await llm.close(); process.exit(0); });
" >"$work/fake.url" &
fake_pid=$!
for _ in $(seq 100); do [[ -s "$work/fake.url" ]] && break; sleep 0.1; done
llm_url="$(head -n1 "$work/fake.url")"
[[ "$llm_url" == http://127.0.0.1:* ]] || fail "fake model server did not start"

port="$("$node" -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"

echo "ci-production-check: serve on 127.0.0.1:$port against $llm_url"
(
  cd "$work/app"
  exec env -u SLACK_BOT_TOKEN -u DISCORD_TOKEN \
    CIR_LLM_BASE_URL="$llm_url" CIR_HTTP_HOST=127.0.0.1 CIR_HTTP_PORT="$port" \
    CIR_DATA_DIR="$work/data" CIR_SANDBOX_POOL_SIZE=1 CIR_SHUTDOWN_GRACE_MS=5000 CIR_LOG_LEVEL=info \
    "$node" src/main.ts serve
) >"$work/serve.log" 2>&1 &
bot_pid=$!

status=""
for _ in $(seq 120); do
  kill -0 "$bot_pid" 2>/dev/null || fail "serve exited before answering /healthz"
  status="$("$node" -e "fetch('http://127.0.0.1:$port/healthz').then(async r=>console.log(r.status, await r.text()),()=>console.log('down'))")"
  [[ "$status" == 200* ]] && break
  sleep 0.5
done
[[ "$status" == 200* ]] || fail "/healthz never answered 200 (last: $status)"
echo "ci-production-check: /healthz -> $status"
metrics="$("$node" -e "fetch('http://127.0.0.1:$port/metrics').then(async r=>console.log(r.status, await r.text()),()=>console.log('down'))")"
[[ "$metrics" == 200* && "$metrics" == *'cir_sessions_total{outcome="answered"} 0'* ]] ||
  fail "/metrics did not answer with the session counters (got: ${metrics:0:200})"
echo "ci-production-check: /metrics -> 200"

kill -TERM "$bot_pid"
code=0
wait "$bot_pid" || code=$?
bot_pid=""
[[ "$code" == 0 ]] || fail "serve exited with $code after SIGTERM (expected 0)"
grep -q 'stopped cleanly' "$work/serve.log" || fail "no 'stopped cleanly' in the log"
echo "ci-production-check: OK (production dependencies only, /healthz 200, /metrics, clean exit on SIGTERM)"
