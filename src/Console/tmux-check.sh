#!/usr/bin/env bash
# Drives decodealign-chat the way a person would, in a detached tmux session: asks the built-in models' Sam question
# with greedy and with best-of-4, then /compare greedy,bon, and checks the screen shows both answers (60) and the
# comparison table. Exits non-zero on failure, printing the captured pane either way.
# Usage: bash src/Console/tmux-check.sh   (CHAT_CHECK_TIMEOUT=seconds per step, default 180)
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
start=$SECONDS
question="Sam has 50 cards. He gets 10 cards from Noah. How many cards does Sam have now?"
timeout=${CHAT_CHECK_TIMEOUT:-180}

command -v tmux >/dev/null || { echo "tmux-check: tmux is not installed (apt-get install tmux)"; exit 1; }

build_log=$(mktemp)
if ! dotnet build src/Console/DecodeAlign.Console.csproj -c Release -nologo >"$build_log" 2>&1; then
  cat "$build_log"; rm -f "$build_log"
  echo "tmux-check: FAILED (build)"; exit 1
fi
rm -f "$build_log"
bin="$repo/src/Console/bin/Release/net10.0/decodealign-chat"

# A private tmux server: no user config, no clash with anyone else's sessions; removed on exit.
sockdir=$(mktemp -d)
t() { tmux -u -S "$sockdir/tmux" -f /dev/null "$@"; }
trap 't kill-server >/dev/null 2>&1 || true; rm -rf "$sockdir"' EXIT
t new-session -d -s chat -x 200 -y 60 "'$bin'; echo \"[decodealign-chat exited \$?]\"; sleep 3600"

pane() { t capture-pane -p -J -S - -t chat; }
fail() {
  echo "----- captured pane -----"; pane; echo "-------------------------"
  echo "tmux-check: FAILED: $1 ($((SECONDS - start)) s)"; exit 1
}
# Waits until at least $2 lines of the pane match the extended regex $1.
wait_for() {
  local deadline=$((SECONDS + timeout))
  until [ "$(pane | grep -c -E -- "$1" || true)" -ge "$2" ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "timed out after ${timeout}s waiting for '$1' x$2"
    sleep 0.3
  done
}
prompts=0
# Types a line once the previous prompt is up, then waits for the next prompt (so no input is typed ahead of the app).
send() {
  wait_for '^you> ' $((prompts + 1))
  prompts=$((prompts + 1))
  t send-keys -t chat -l -- "$1"
  t send-keys -t chat Enter
}

send "/strategy greedy"
send "$question"
send "/strategy bon"
send "/n 4"
send "$question"
send "/compare greedy,bon $question"
wait_for '^you> ' $((prompts + 1))

screen=$(pane)
check() { grep -q -E -- "$1" <<<"$screen" || fail "$2"; }
check '^greedy> .*\b60\b' "no greedy reply with 60"
check '^bon> .*\b60\b' "no best-of-4 reply with 60"
check '^ +reward -?[0-9.]+, [0-9]+ output tokens, computed [0-9]+ LM \+ [0-9]+ scorer tokens' "no stats line with a reward under the bon reply"
# Column bars are '│', or '|' where Spectre falls back to ASCII; alternation, not a bracket, so any locale matches them.
bar='(\||│)'
check "strategy +$bar +answer +$bar +reward +$bar +tokens computed +$bar +time +$bar +acceptance" "no comparison table header"
check "^$bar +greedy +$bar.*\b60\b" "no greedy row with 60 in the comparison table"
check "^$bar +bon +$bar.*\b60\b" "no bon row with 60 in the comparison table"

t send-keys -t chat -l -- "/quit"
t send-keys -t chat Enter
wait_for '^\[decodealign-chat exited [0-9]+\]' 1
pane | grep -q '^\[decodealign-chat exited 0\]' || fail "/quit did not exit with code 0"

echo "----- captured pane -----"; pane | grep -v '^$'; echo "-------------------------"
echo "tmux-check: passed ($((SECONDS - start)) s)"
