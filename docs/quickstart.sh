#!/usr/bin/env bash
# A tour of sbctl with nothing to register: builds sbctl, starts its sandbox
# OAuth server on loopback, and in a throwaway workspace (own config, state
# and plain-file token store) connects profiles through the real browser
# flow (curl plays the browser and approves), imports tokens in every state,
# then lists, checks, renews, verifies and re-authenticates them.
set -euo pipefail
cd "$(dirname "$0")/.."
w=$(mktemp -d "${TMPDIR:-/tmp}/sbctl-quickstart.XXXXXX")
cleanup() { kill "${sandbox_pid:-}" 2>/dev/null || true; rm -rf "$w"; }
trap cleanup EXIT
go build -o "$w/sbctl" ./cmd/sbctl
export XDG_CONFIG_HOME=$w/cfg XDG_STATE_HOME=$w/state XDG_DATA_HOME=$w/data SBCTL_TOKEN_STORE=file
export SBCTL_FORCE_TTY=${SBCTL_FORCE_TTY:-1}
unset SBCTL_CONFIG SBCTL_BROWSER
mkdir -p "$XDG_CONFIG_HOME/sbctl"
sb() { "$w/sbctl" "$@"; }
say() { printf '\n\033[1m$ sbctl %s\033[0m\n' "$*"; }

"$w/sbctl" sandbox serve --auto-approve --quiet --access-ttl 10m --refresh-ttl 30d >"$w/sandbox.json" &
sandbox_pid=$!
for _ in $(seq 50); do grep -q issuer "$w/sandbox.json" 2>/dev/null && break; sleep 0.1; done
issuer=$(sed -E 's/.*"issuer":"([^"]+)".*/\1/' "$w/sandbox.json")

cat >"$XDG_CONFIG_HOME/sbctl/config.yaml" <<YAML
# A sample team config: one OIDC provider (the sandbox) and one plain
# OAuth 2.0 provider whose tokens we import.
providers:
  sandbox:
    type: oidc
    issuer: $issuer
    client_id: quickstart
    scopes: [openid, offline_access, profile]
  legacy:
    type: oauth2
    auth_url: https://id.legacy.example/authorize
    token_url: https://id.legacy.example/token
    client_id: sbctl-quickstart
groups:
  marketing:
    description: Brand accounts
YAML

# curl plays the browser: it follows the sandbox's auto-approve redirect to
# sbctl's loopback listener. (BROWSER is a command; the URL is its last argument.)
export BROWSER="curl -sL -o /dev/null"
say profiles add brand --provider sandbox --group marketing
sb profiles add brand --provider sandbox --group marketing 2>&1 | grep -v 'plain text'
day=86400
echo "{\"access_token\":\"demo-2\",\"expires_in\":$((2 * day))}" | sb profiles add campaign --provider legacy --with-token 2>/dev/null
echo "{\"access_token\":\"demo-3\",\"expires_in\":1}" | sb profiles add 広報 --provider legacy --group marketing --with-token 2>/dev/null
sb profiles add support --provider sandbox --no-connect 2>/dev/null
sleep 1

say profiles list
sb profiles list
say profiles check; sb profiles check && rc=0 || rc=$?; echo "(exit code $rc)"

say token brand; sb token brand 2>/dev/null | cut -c1-24 | sed 's/$/… (truncated here)/'
say refresh brand; sb refresh brand 2>&1 | grep -v 'plain text'
say reauth support; sb reauth support 2>&1 | grep -v 'plain text'

echo; echo "# The user removes the app's access in the network's settings:"
sb sandbox revoke sandbox-user --issuer "$issuer" 2>/dev/null
say profiles verify brand support; sb profiles verify brand support && rc=0 || rc=$?; echo "(exit code $rc)"
say token brand; sb token brand && rc=0 || rc=$?; echo "(exit code $rc)"
say reauth brand; sb reauth brand 2>&1 | grep -v 'plain text'
say profiles show brand; sb profiles show brand
