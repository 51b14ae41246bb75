package providertest_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth/provider/providertest"
)

func TestFakeRecordsAndRoutes(t *testing.T) {
	f := providertest.New(t)
	if host, _, _ := net.SplitHostPort(strings.TrimPrefix(f.URL, "http://")); host != "127.0.0.1" {
		t.Fatalf("the fake listens on %s, want 127.0.0.1", f.URL)
	}
	f.On("POST /token", func(w http.ResponseWriter, r *http.Request, req providertest.Request) {
		// The body is still there for the handler.
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "refresh_token" {
			t.Errorf("handler form %v, %v", r.PostForm, err)
		}
		if req.N == 1 {
			providertest.TokenAnswer(w, "at-1", "rt-1")
			return
		}
		providertest.InvalidGrant(w)
	})
	f.Reply("GET /me", 200, `{"id":"1"}`)

	c := &http.Client{Timeout: 5 * time.Second}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt-0"}}
	var bodies []string
	for range 2 {
		req, _ := http.NewRequest("POST", f.Endpoint("/token"), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("client", "secret")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("headers %v", resp.Header)
		}
		bodies = append(bodies, resp.Status+" "+string(b))
	}
	if bodies[0] != `200 OK {"access_token":"at-1","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-1"}` ||
		bodies[1] != "400 Bad Request "+providertest.GoogleInvalidGrant {
		t.Errorf("answers %q", bodies)
	}
	resp, err := c.Get(f.Endpoint("/me?fields=id"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = c.Get(f.Endpoint("/nowhere"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unrouted request got %s", resp.Status)
	}

	calls := f.Calls("POST /token")
	if len(calls) != 2 || calls[1].N != 2 || calls[0].Form.Get("refresh_token") != "rt-0" || !calls[0].HasBasic ||
		calls[0].BasicUser != "client" || calls[0].BasicPass != "secret" || calls[0].At.IsZero() {
		t.Errorf("token calls %+v", calls)
	}
	if me := f.Calls("/me"); len(me) != 1 || me[0].Query.Get("fields") != "id" || me[0].Form != nil || me[0].N != 1 {
		t.Errorf("GET /me calls %+v", me)
	}
	if n, all := f.Count("/token"), len(f.Requests()); n != 2 || all != 4 {
		t.Errorf("Count(/token) = %d, Requests() = %d; want 2, 4", n, all)
	}
}

func TestFakeDateHeader(t *testing.T) {
	f := providertest.New(t)
	f.Reply("GET /", 200, `{}`)
	date := func() []string {
		resp, err := http.Get(f.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Values("Date")
	}
	if d := date(); len(d) != 1 {
		t.Errorf("by default: Date %q, want the real one", d)
	}
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	f.SetDate(at)
	if d := date(); len(d) != 1 || d[0] != "Wed, 02 Jan 2030 03:04:05 GMT" {
		t.Errorf("after SetDate: Date %q", d)
	}
	f.DropDate()
	if d := date(); len(d) != 0 {
		t.Errorf("after DropDate: Date %q, want none", d)
	}
}

// A dropped answer reaches the client as a broken connection, after the
// request was recorded.
func TestFakeDropsTheConnection(t *testing.T) {
	f := providertest.New(t)
	f.On("POST /token", func(w http.ResponseWriter, _ *http.Request, _ providertest.Request) {
		providertest.DropConnection(t, w)
	})
	f.On("POST /other", providertest.DropAfterRead)
	for _, path := range []string{"/token", "/other"} {
		_, err := http.Post(f.Endpoint(path), "application/x-www-form-urlencoded", strings.NewReader("a=b"))
		if err == nil || !(errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)) {
			t.Errorf("%s: %v, want a dropped connection", path, err)
		}
		if f.Count("POST "+path) != 1 {
			t.Errorf("%s: the request was not recorded", path)
		}
	}
}
