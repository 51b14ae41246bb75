package flow

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// relayScript runs on the user's hosted HTTPS page. It forwards the
// authorization response to the loopback listener whose port, and whose
// path's provider name when it has one, lead the state (see relayState):
// "PORT.RANDOM" goes to /callback, "PORT.NAME.RANDOM" to /callback/NAME.
// It writes nothing from the URL into the page, accepts only digits for the
// port, only letters, digits, - and _ for the name, and only 127.0.0.1 as
// the target, and forwards only the response parameters, so the page cannot
// be turned into an open redirect or an XSS. An address that repeats a
// response parameter is refused, as sbctl's listener refuses it: forwarding
// "the first one" would let whoever built the address choose what is
// checked.
const relayScript = `(function () {
  "use strict";
  var msg = document.getElementById("msg");
  var q = new URLSearchParams(window.location.search);
  var keys = ["code", "state", "error", "error_description", "error_uri", "iss"];
  for (var i = 0; i < keys.length; i++) {
    if (q.getAll(keys[i]).length > 1) {
      msg.textContent = "This address repeats a sign-in parameter, so it cannot be trusted. Start the sign-in again from sbctl.";
      return;
    }
  }
  var state = q.get("state") || "";
  var m = /^([0-9]{1,5})\.(?:([A-Za-z0-9_-]{1,64})\.)?[A-Za-z0-9_-]+$/.exec(state);
  var port = m ? parseInt(m[1], 10) : 0;
  if (!m || port < 1 || port > 65535 || String(port) !== m[1]) {
    msg.textContent = "This page only forwards sbctl sign-ins, and this address is not one. Start the sign-in again from sbctl.";
    return;
  }
  var path = m[2] ? "/callback/" + m[2] : "/callback";
  var out = new URLSearchParams();
  keys.forEach(function (k) {
    if (q.has(k)) { out.set(k, q.get(k)); }
  });
  msg.textContent = "Returning to sbctl on this computer...";
  // replace() keeps the code out of the history of this tab.
  window.location.replace("http://127.0.0.1:" + port + path + "?" + out.toString());
})();`

// maxRelayName bounds the provider name relay mode carries in state; the
// page's pattern allows the same.
const maxRelayName = 64

// relayPathName returns what the relay page needs to rebuild path: "" for
// DefaultCallbackPath, NAME for /callback/NAME. ok is false for any other
// path, which the page cannot reach.
func relayPathName(path string) (name string, ok bool) {
	if path == DefaultCallbackPath {
		return "", true
	}
	name, found := strings.CutPrefix(path, DefaultCallbackPath+"/")
	if !found || name == "" || len(name) > maxRelayName {
		return "", false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "", false
		}
	}
	return name, true
}

// relayPage is built once: the CSP hash must match the script byte for byte.
var relayPage = buildRelayPage()

func buildRelayPage() string {
	sum := sha256.Sum256([]byte(relayScript))
	hash := "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
	var b strings.Builder
	b.WriteString(`<!doctype html>
<!--
  sbctl sign-in relay.

  Some networks (Facebook, Instagram, Threads) only redirect to registered
  HTTPS addresses, never to http://127.0.0.1. Host this file unchanged at an
  HTTPS address you control (for example GitHub Pages, or any static host),
  register that exact address as a redirect URI of your app with the network,
  and set it as relay_url of the provider in sbctl's config (redirect: relay).

  During a sign-in, sbctl listens on http://127.0.0.1:PORT/callback/NAME on
  your computer (NAME is the provider's; or on /callback) and sends the
  network a state of the form "PORT.NAME.RANDOM" (or "PORT.RANDOM"). The
  network redirects your browser here with ?code=...&state=...; this page
  forwards code, state, error, error_description, error_uri and iss (nothing
  else, and nothing if one of them appears twice) to
  http://127.0.0.1:PORT/callback/NAME in the same browser, where sbctl checks
  the state. Nothing leaves your browser except that navigation. A copy of
  this page from a version of sbctl before per-provider paths does not
  understand the NAME part: host this version.

  The page loads nothing, reflects nothing from its address, and its
  Content-Security-Policy only allows this exact script. The code appears in
  the request to this page, so your host's access log may record it: it is
  single-use and expires within minutes, but prefer a host whose logs you
  trust. Do not add analytics or other scripts to this page.
-->
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src '`)
	b.WriteString(hash)
	b.WriteString(`'; base-uri 'none'; form-action 'none'">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>sbctl sign-in</title>
</head>
<body>
<p id="msg">Returning to sbctl... (this page needs JavaScript)</p>
<script>`)
	b.WriteString(relayScript)
	b.WriteString(`</script>
</body>
</html>
`)
	return b.String()
}

// RelayPage returns the static HTML page to host for relay mode. Its usage
// is explained in an HTML comment at its top.
func RelayPage() string { return relayPage }
