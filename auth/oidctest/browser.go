package oidctest

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/sbctl/sbctl/auth/flow"
)

// ClickThrough is a browser for flow.Run (it implements flow.Opener) that
// signs in at the example OP: it follows the authorization URL to the
// example's login page, submits the form with Username and Password, and
// follows the redirects to the redirect_uri, normally sbctl's loopback
// callback. Open returns when the callback page has loaded, or with what
// went wrong.
//
// It understands the example's own login page (exampleop's login.html), not
// arbitrary HTML.
type ClickThrough struct {
	Username, Password string
	// Fail, if not nil, is also told Open's error (see OP.Browser).
	Fail func(error)
}

var _ flow.Opener = (*ClickThrough)(nil)

// clickTimeout bounds each request, in case ctx has no deadline.
const clickTimeout = 10 * time.Second

// Open signs in. Its error names the step that failed and what the server
// said; it never contains the authorization code (it never repeats the
// callback's query).
func (c *ClickThrough) Open(ctx context.Context, authURL string) error {
	err := c.signIn(ctx, authURL)
	// flow.Run cancels ctx as soon as the callback has arrived, possibly
	// while the callback page is still being read: that is the flow
	// finishing, not a failed sign-in.
	if err != nil && ctx.Err() == nil && c.Fail != nil {
		c.Fail(err)
	}
	return err
}

func (c *ClickThrough) signIn(ctx context.Context, authURL string) error {
	au, err := url.Parse(authURL)
	if err != nil {
		return fmt.Errorf("oidctest: authorization URL: %w", err)
	}
	redirect, err := url.Parse(au.Query().Get("redirect_uri"))
	if err != nil || redirect.Host == "" {
		return errors.New("oidctest: the authorization URL has no absolute redirect_uri")
	}
	if !loopback(au) {
		return errors.New("oidctest: the authorization URL is not on a loopback host")
	}
	// Its own transport, so no idle connection outlives the sign-in; and
	// never off loopback, whatever a redirect says.
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: clickTimeout, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if !loopback(r.URL) {
			return errors.New("redirected off loopback")
		}
		if len(via) >= 10 {
			return errors.New("too many redirects")
		}
		return nil
	}}

	page, err := c.do(ctx, hc, http.MethodGet, authURL, nil)
	if err != nil {
		return fmt.Errorf("oidctest: opening the authorization URL: %w", err)
	}
	if page.at(redirect) {
		return page.callbackResult() // signed in already (never, with the example; harmless)
	}
	action, fields, ok := loginForm(page.body)
	if !ok {
		return fmt.Errorf("oidctest: the OP showed no login form: %s", page)
	}
	fields.Set("username", c.Username)
	fields.Set("password", c.Password)
	target, err := page.url.Parse(action)
	if err != nil {
		return fmt.Errorf("oidctest: login form action: %w", err)
	}
	page, err = c.do(ctx, hc, http.MethodPost, target.String(), fields)
	if err != nil {
		return fmt.Errorf("oidctest: submitting the login form: %w", err)
	}
	if !page.at(redirect) {
		if _, _, again := loginForm(page.body); again {
			return fmt.Errorf("oidctest: the OP refused the sign-in: %s", page)
		}
		return fmt.Errorf("oidctest: the sign-in did not reach the redirect_uri: %s", page)
	}
	return page.callbackResult()
}

// landing is where a request ended after its redirects.
type landing struct {
	url    *url.URL
	status int
	body   string // at most 64 KiB
}

func (c *ClickThrough) do(ctx context.Context, hc *http.Client, method, u string, form url.Values) (*landing, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := hc.Do(req)
	if err != nil {
		// url.Error quotes the URL, which may be the callback with its
		// code: keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, fmt.Errorf("%s %s: %w", ue.Op, pathOnly(ue.URL), ue.Err)
		}
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", pathOnly(resp.Request.URL.String()), err)
	}
	return &landing{url: resp.Request.URL, status: resp.StatusCode, body: string(b)}, nil
}

// at reports whether the page is the redirect_uri (query aside).
func (l *landing) at(redirect *url.URL) bool {
	return l.url.Scheme == redirect.Scheme && l.url.Host == redirect.Host && l.url.Path == redirect.Path
}

// callbackResult reads the outcome at the redirect_uri: the OP's error
// parameters if it sent an error response (RFC 6749 §4.1.2.1), else the
// callback page's status.
func (l *landing) callbackResult() error {
	q := l.url.Query()
	if e := q.Get("error"); e != "" {
		return fmt.Errorf("oidctest: the OP answered error=%q error_description=%q", e, q.Get("error_description"))
	}
	if l.status != http.StatusOK {
		return fmt.Errorf("oidctest: the callback page answered HTTP %d", l.status)
	}
	return nil
}

// String describes the page for an error: status, path and the start of
// the text (the example shows its errors as plain text or in the form).
func (l *landing) String() string {
	text := strings.Join(strings.Fields(tagRE.ReplaceAllString(l.body, " ")), " ")
	if len(text) > 300 {
		text = text[:300] + "…"
	}
	return fmt.Sprintf("HTTP %d at %s: %q", l.status, pathOnly(l.url.String()), text)
}

var (
	formRE  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputRE = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	attrRE  = regexp.MustCompile(`(?is)\b([a-z_-]+)\s*=\s*"([^"]*)"`)
	tagRE   = regexp.MustCompile(`(?s)<[^>]*>`)
)

// loginForm finds the example's login form: its action and its fields with
// their current values (the hidden auth request id among them).
func loginForm(page string) (action string, fields url.Values, ok bool) {
	m := formRE.FindStringSubmatch(page)
	if m == nil {
		return "", nil, false
	}
	action = attrs(m[1])["action"]
	fields = url.Values{}
	for _, in := range inputRE.FindAllStringSubmatch(m[2], -1) {
		a := attrs(in[1])
		if a["name"] != "" {
			fields.Set(a["name"], a["value"])
		}
	}
	_, hasUser := fields["username"]
	_, hasPass := fields["password"]
	return action, fields, action != "" && hasUser && hasPass
}

func attrs(s string) map[string]string {
	out := map[string]string{}
	for _, m := range attrRE.FindAllStringSubmatch(s, -1) {
		out[strings.ToLower(m[1])] = html.UnescapeString(m[2])
	}
	return out
}

func loopback(u *url.URL) bool {
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

// pathOnly drops the query and fragment, where codes and states travel.
func pathOnly(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}
