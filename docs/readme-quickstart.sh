#!/usr/bin/env bash
# Runs README.md's "Quick start" verbatim: its YAML block becomes the config
# and its first sh block runs line by line, with `sbctl` built from this
# checkout and a throwaway workspace (own HOME, config, state and keychain
# service name). It uses the OS keychain when one answers (as README
# assumes), else the plain-file store. Exits non-zero if any line fails.
set -euo pipefail
cd "$(dirname "$0")/.."
w=$(mktemp -d "${TMPDIR:-/tmp}/sbctl-readme.XXXXXX")
trap 'rm -rf "$w"' EXIT

# The section between "## Quick start" and the next "## " heading.
section=$(awk '/^## Quick start/{on=1; next} on && /^## /{exit} on' README.md)
yaml=$(printf '%s\n' "$section" | awk '/^```yaml/{on=1; next} on && /^```/{exit} on')
commands=$(printf '%s\n' "$section" | awk '/^```sh/{on=1; next} on && /^```/{exit} on')
[ -n "$yaml" ] || { echo "readme-quickstart: no yaml block in README's Quick start"; exit 1; }
[ -n "$commands" ] || { echo "readme-quickstart: no sh block in README's Quick start"; exit 1; }

mkdir -p "$w/bin" "$w/home" "$w/cfg/sbctl"
go build -o "$w/bin/sbctl" ./cmd/sbctl
export PATH="$w/bin:$PATH" HOME="$w/home" XDG_CONFIG_HOME="$w/cfg" XDG_STATE_HOME="$w/state" XDG_DATA_HOME="$w/data"
export SBCTL_KEYRING_SERVICE="sbctl-readme-$$"
unset SBCTL_CONFIG SBCTL_BROWSER BROWSER SBCTL_NOW
printf '%s\n' "$yaml" >"$XDG_CONFIG_HOME/sbctl/config.yaml"
store_ok=$(sbctl doctor -o json 2>/dev/null | python3 -c 'import json,sys; print(any(c["name"]=="token store" and c["ok"] for c in json.load(sys.stdin)))' 2>/dev/null || echo False)
if [ "$store_ok" != True ]; then
  # No usable keychain here: the explicit plain-file store (SPEC §3).
  export SBCTL_TOKEN_STORE=file
fi

status=0
while IFS= read -r line; do
  [ -n "$line" ] || continue
  printf '$ %s\n' "$line"
  bash -euo pipefail -c "$line" || { echo "readme-quickstart: failed: $line"; status=1; }
done <<<"$commands"
# Clean the keychain items the quick start stored.
if [ -z "${SBCTL_TOKEN_STORE:-}" ]; then
  for p in $(sbctl profiles list -o json 2>/dev/null | sed -n 's/.*"name": "\([^"]*\)".*/\1/p'); do
    sbctl profiles remove "$p" --keep-remote --yes >/dev/null 2>&1 || true
  done
fi
exit $status
