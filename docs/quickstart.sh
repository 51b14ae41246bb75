#!/usr/bin/env bash
# A throwaway sbctl workspace with nothing to register: builds sbctl, writes a
# config, imports four tokens (healthy, expiring, expired, never connected)
# into the plain-file store of a temporary directory, then lists and checks.
set -euo pipefail
cd "$(dirname "$0")/.."
w=$(mktemp -d "${TMPDIR:-/tmp}/sbctl-quickstart.XXXXXX")
trap 'rm -rf "$w"' EXIT
go build -o "$w/sbctl" ./cmd/sbctl
export XDG_CONFIG_HOME=$w/cfg XDG_STATE_HOME=$w/state XDG_DATA_HOME=$w/data SBCTL_TOKEN_STORE=file
mkdir -p "$XDG_CONFIG_HOME/sbctl"
cat >"$XDG_CONFIG_HOME/sbctl/config.yaml" <<'YAML'
# A sample team config
providers:
  acme:
    type: oauth2
    auth_url: https://id.acme.example/authorize
    token_url: https://id.acme.example/token
    client_id: sbctl-quickstart
groups:
  marketing:
    description: Brand accounts
YAML
sb() { "$w/sbctl" "$@"; }
day=86400
echo '{"access_token":"demo-1","refresh_token":"demo-r","expires_in":3600}' | sb profiles add brand --provider acme --group marketing --with-token 2>/dev/null
echo "{\"access_token\":\"demo-2\",\"expires_in\":$((2 * day))}" | sb profiles add campaign --provider acme --with-token 2>/dev/null
echo "{\"access_token\":\"demo-3\",\"expiry\":\"$(date -u -d '-1 day' +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -v-1d +%Y-%m-%dT%H:%M:%SZ)\"}" | sb profiles add 広報 --provider acme --group marketing --with-token 2>/dev/null
sb profiles add support --provider acme --no-connect 2>/dev/null
echo "\$ sbctl profiles list"
SBCTL_FORCE_TTY=${SBCTL_FORCE_TTY:-1} sb profiles list
echo
echo "\$ sbctl profiles check"
sb profiles check && rc=0 || rc=$?
echo "(exit code $rc)"
echo
echo "\$ sbctl profiles show 広報"
sb profiles show 広報
