package profiles

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/sbctl/sbctl/auth/fsx"
)

// AgentStatus is what the last agent on this machine said of itself, for
// `sbctl agent status`: written after every pass to agent.json in the
// state directory (no secrets: counts and times).
type AgentStatus struct {
	PID       int       `json:"pid"`
	Host      string    `json:"host"`
	StartedAt time.Time `json:"started_at"`
	// LastPassAt and NextPassAt: when the last pass began and when the
	// next one is due.
	LastPassAt time.Time `json:"last_pass_at"`
	NextPassAt time.Time `json:"next_pass_at"`
	Team       bool      `json:"team"`
	// Standby: another agent is the team's active one.
	Standby  bool `json:"standby"`
	Profiles int  `json:"profiles"`
	Renewed  int  `json:"renewed"`
	Failed   int  `json:"failed"`
	Verified int  `json:"verified"`
	// LastError: the last pass could not list the profiles, and why.
	LastError string `json:"last_error,omitempty"`
	// StoppedAt is set when the agent ended (an interruption, or a pass
	// of --once); unset while it runs or after it died.
	StoppedAt *time.Time `json:"stopped_at,omitempty"`
	Once      bool       `json:"once,omitempty"`
}

// AgentStatusFile is the agent's status file in a state directory.
func AgentStatusFile(stateDir string) string { return filepath.Join(stateDir, "agent.json") }

func (m *Manager) agentStatusPath() string { return AgentStatusFile(m.opts.StateDir) }

// AgentStatus reads what the last agent on this machine wrote.
func (m *Manager) AgentStatus() (*AgentStatus, error) { return ReadAgentStatus(m.opts.StateDir) }

// ReadAgentStatus reads the status file of the last agent that ran with
// this state directory; nil (no error) when none did. It needs no
// Manager, so `sbctl agent status` works without opening a team database.
func ReadAgentStatus(stateDir string) (*AgentStatus, error) {
	path := AgentStatusFile(stateDir)
	b, err := fsx.ReadRegular(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var st AgentStatus
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, errors.New("the agent's status file " + path + " is damaged; the agent's next pass rewrites it")
	}
	return &st, nil
}

// writeStatus records the pass in agent.json, best effort: the status is
// for people, and a failure to write it must not stop the renewals.
func (a *agent) writeStatus(st PassStats, started time.Time, stopped bool) {
	s := AgentStatus{
		PID: os.Getpid(), Host: host(), StartedAt: started.UTC(), LastPassAt: st.At.UTC(), NextPassAt: st.Next.UTC(),
		Team: a.m.TeamMode(), Standby: st.Standby, Profiles: len(st.Views),
		Renewed: st.Renewed, Failed: st.Failed, Verified: st.Verified, Once: a.o.Once,
	}
	if st.Err != nil {
		s.LastError = st.Err.Error()
	}
	if stopped {
		now := a.m.now().UTC()
		s.StoppedAt = &now
		s.NextPassAt = time.Time{}
	}
	b, err := json.Marshal(s)
	if err != nil {
		return
	}
	if err := stateDir.Make(a.m.opts.StateDir); err != nil {
		a.log.Debug("cannot write the agent's status file", "error", err.Error())
		return
	}
	if err := fsx.WriteFile(a.m.agentStatusPath(), b, fsx.KeepPerm(0o600)); err != nil {
		a.log.Debug("cannot write the agent's status file", "error", err.Error())
	}
}
