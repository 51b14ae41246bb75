package sandbox

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// parallelClient keeps many requests in flight without opening a socket
// per request.
var parallelClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 200, MaxConnsPerHost: 200}}

func refreshWith(c *http.Client, s *Server, rt string) (int, error) {
	code, _, err := refreshBody(c, s, rt)
	return code, err
}

func refreshBody(c *http.Client, s *Server, rt string) (int, TokenResponse, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {testClient}}
	resp, err := c.Post(s.Metadata().TokenEndpoint, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		return 0, TokenResponse{}, err
	}
	defer resp.Body.Close()
	var tr TokenResponse
	err = json.NewDecoder(resp.Body).Decode(&tr)
	return resp.StatusCode, tr, err
}

func TestConcurrentRefreshOfDistinctGrants(t *testing.T) {
	s := start(t, Options{RotateRefresh: true})
	const n = 200
	tokens := make([]string, n)
	for i := range tokens {
		tok, err := s.Issue(IssueRequest{ClientID: testClient, Subject: "user" + string(rune('a'+i%26))})
		if err != nil {
			t.Fatal(err)
		}
		tokens[i] = tok.RefreshToken
	}
	var wg sync.WaitGroup
	var ok atomic.Int64
	for _, rt := range tokens {
		wg.Go(func() {
			code, err := refreshWith(parallelClient, s, rt)
			if err != nil {
				t.Error(err)
			} else if code == 200 {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != n {
		t.Fatalf("%d of %d refreshes succeeded", ok.Load(), n)
	}
	if st := s.Stats(); st.RefreshSucceeded != n || st.ReuseDetections != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// Twenty clients racing one rotating refresh token: the server serialises
// them, exactly one wins, and the losers' reuse revokes the family.
func TestConcurrentRefreshOfOneRotatingToken(t *testing.T) {
	s := start(t, Options{RotateRefresh: true})
	tok, err := s.Issue(IssueRequest{ClientID: testClient})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	codes := make([]int, n)
	var next string // the winner's new refresh token
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			code, tr, err := refreshBody(parallelClient, s, tok.RefreshToken)
			if err != nil {
				t.Error(err)
			}
			codes[i] = code
			if code == 200 {
				next = tr.RefreshToken // written by the single winner only
			}
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for _, c := range codes {
		switch c {
		case 200:
			won++
		case 400:
		default:
			t.Errorf("status %d", c)
		}
	}
	if won != 1 {
		t.Fatalf("%d refreshes succeeded, want exactly 1 (%v)", won, codes)
	}
	// The first loser detected the reuse and revoked the grant; the others
	// found it dead already.
	if st := s.Stats(); st.ReuseDetections != 1 || st.RefreshRequests != n {
		t.Fatalf("stats %+v", st)
	}
	code, body := refresh(t, s, next)
	wantError(t, code, body, 400, "invalid_grant", "access_revoked")
}

// A thousand parallel refreshes of non-rotating grants all succeed.
func TestThousandParallelRefreshes(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	s := start(t, Options{})
	tok, err := s.Issue(IssueRequest{ClientID: testClient})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var ok atomic.Int64
	for range 1000 {
		wg.Go(func() {
			if code, err := refreshWith(parallelClient, s, tok.RefreshToken); err == nil && code == 200 {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1000 {
		t.Fatalf("%d of 1000 succeeded", ok.Load())
	}
	if st := s.Stats(); st.RefreshByAccount[DefaultSubject] != 1000 {
		t.Fatalf("stats %+v", st)
	}
}

// BenchmarkParallelRefresh measures the server's refresh throughput over
// real loopback HTTP (set Options.TokenLatency to model a network).
func BenchmarkParallelRefresh(b *testing.B) {
	s := start(b, Options{})
	tok, err := s.Issue(IssueRequest{ClientID: testClient})
	if err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if code, err := refreshWith(parallelClient, s, tok.RefreshToken); err != nil || code != 200 {
				b.Errorf("refresh: %d %v", code, err)
				return
			}
		}
	})
}
