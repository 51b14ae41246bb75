package sandbox

import "maps"

// Stats counts what clients asked for, so tests and benchmarks can assert
// that a client did (or did not) talk to the server. Requests are counted
// when they arrive, whether they succeed or not.
type Stats struct {
	AuthorizeRequests int64 `json:"authorize_requests"` // GET /authorize
	TokenRequests     int64 `json:"token_requests"`     // every POST /token
	CodeExchanges     int64 `json:"code_exchanges"`     // grant_type=authorization_code
	CodeReplays       int64 `json:"code_replays"`       // a code redeemed a second time
	RefreshRequests   int64 `json:"refresh_requests"`   // grant_type=refresh_token
	RefreshSucceeded  int64 `json:"refresh_succeeded"`  // ... that issued tokens
	// RefreshByAccount counts refresh requests per subject, for requests
	// whose refresh token the server knew.
	RefreshByAccount     map[string]int64 `json:"refresh_by_account"`
	ReuseDetections      int64            `json:"reuse_detections"`      // rotated refresh tokens presented again
	DeviceAuthorizations int64            `json:"device_authorizations"` // POST /device/code
	DevicePolls          int64            `json:"device_polls"`          // grant_type=device_code
	Revocations          int64            `json:"revocations"`           // POST /revoke
	Introspections       int64            `json:"introspections"`        // POST /introspect
	UserinfoRequests     int64            `json:"userinfo_requests"`     // /userinfo
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.stats
	out.RefreshByAccount = maps.Clone(s.stats.RefreshByAccount)
	return out
}
