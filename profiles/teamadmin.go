package profiles

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/config"
	"github.com/sbctl/sbctl/profiles/team"
)

// TeamKeyItem is the token-store item that holds a member's copy of the
// team key (SPEC: `team-key:<team id>`).
func TeamKeyItem(teamID string) string { return "team-key:" + teamID }

// TeamAdmin runs the `sbctl team` commands on one team database: the
// schema, the members and their roles, the audit log and the team key.
type TeamAdmin struct {
	db    *team.DB
	local store.Store // this machine's keychain (or file): where the team key lives
	// envKey is $SBCTL_TEAM_KEY (cmd reads it): a CI or server member's
	// key, used instead of the keychain item and never written anywhere.
	envKey string
	where  string
}

// TeamAdminOptions open a TeamAdmin.
type TeamAdminOptions struct {
	DatabaseURL string
	TeamKey     string      // $SBCTL_TEAM_KEY, base64; "" to use the keychain item
	Local       store.Store // this machine's token store
	Host        string      // this machine's name, for the audit log
	Timeout     time.Duration
}

// OpenTeamAdmin connects to the team database.
func OpenTeamAdmin(ctx context.Context, o TeamAdminOptions) (*TeamAdmin, error) {
	if strings.TrimSpace(o.DatabaseURL) == "" {
		return nil, &UsageError{Msg: "no team database: set `team: {database: …}` in the config or $SBCTL_DATABASE_URL"}
	}
	db, err := team.Open(ctx, o.DatabaseURL, team.OpenOptions{ConnectTimeout: o.Timeout, Host: o.Host})
	if err != nil {
		return nil, err
	}
	return &TeamAdmin{db: db, local: o.Local, envKey: o.TeamKey, where: "the team database"}, nil
}

// Close ends the connection.
func (a *TeamAdmin) Close() { a.db.Close() }

// TeamInitResult is what `team init` did.
type TeamInitResult struct {
	Info team.Info
	// KeyStored names where the new team key went ("" when it came from
	// $SBCTL_TEAM_KEY, which sbctl never writes).
	KeyStored string
}

// Init creates the team: the schema, its roles (the caller becomes its
// owner) and the team key. The key goes to this machine's token store;
// with $SBCTL_TEAM_KEY set, that key is the team's.
func (a *TeamAdmin) Init(ctx context.Context) (TeamInitResult, error) {
	var res TeamInitResult
	key, fromEnv, err := a.keyForInit()
	if err != nil {
		return res, err
	}
	info, err := a.db.Init(ctx, key.Fingerprint())
	if err != nil {
		return res, err
	}
	res.Info = info
	if fromEnv {
		return res, nil
	}
	if a.local == nil {
		return res, errors.New("no token store to keep the team key in; set $SBCTL_TEAM_KEY instead")
	}
	if err := a.local.Set(ctx, TeamKeyItem(info.ID), key.String()); err != nil {
		return res, fmt.Errorf("the team was created, but its key could not be stored in %s: %w; the team cannot be used until a key is imported — run `sbctl team init` on a fresh database", a.local.Describe(), err)
	}
	res.KeyStored = a.local.Describe()
	return res, nil
}

func (a *TeamAdmin) keyForInit() (team.Key, bool, error) {
	if a.envKey != "" {
		k, err := team.ParseKey(a.envKey)
		if err != nil {
			return team.Key{}, false, fmt.Errorf("$SBCTL_TEAM_KEY: %w", err)
		}
		return k, true, nil
	}
	k, err := team.NewKey()
	return k, false, err
}

// Key is this member's team key: $SBCTL_TEAM_KEY, else the keychain item.
// A key whose fingerprint differs from the team's is refused with both
// fingerprints, so members can compare.
func (a *TeamAdmin) Key(ctx context.Context) (team.Key, team.Info, error) {
	info, err := a.db.KeyInfo(ctx)
	if err != nil {
		return team.Key{}, info, err
	}
	key, err := a.loadKey(ctx, info.ID)
	if err != nil {
		return key, info, err
	}
	if fp := key.Fingerprint(); fp != info.KeyFingerprint {
		return key, info, fmt.Errorf("this machine's team key has fingerprint %s, the team's is %s: import the team's key with `sbctl team key import` (ask an owner for `sbctl team key export`)", fp, info.KeyFingerprint)
	}
	return key, info, nil
}

func (a *TeamAdmin) loadKey(ctx context.Context, teamID string) (team.Key, error) {
	if a.envKey != "" {
		k, err := team.ParseKey(a.envKey)
		if err != nil {
			return k, fmt.Errorf("$SBCTL_TEAM_KEY: %w", err)
		}
		return k, nil
	}
	if a.local == nil {
		return team.Key{}, errors.New("no team key: set $SBCTL_TEAM_KEY or import one with `sbctl team key import`")
	}
	s, err := a.local.Get(ctx, TeamKeyItem(teamID))
	if errors.Is(err, store.ErrNotFound) {
		return team.Key{}, fmt.Errorf("this machine has no key for team %s: import it with `sbctl team key import` (an owner runs `sbctl team key export` and sends it over a secure channel), or set $SBCTL_TEAM_KEY", teamID)
	}
	if err != nil {
		return team.Key{}, fmt.Errorf("reading the team key from %s: %w", a.local.Describe(), err)
	}
	return team.ParseKey(s)
}

// ImportKey stores a team key read from the user (stdin) in this
// machine's token store, after checking it is the team's.
func (a *TeamAdmin) ImportKey(ctx context.Context, b64 string) (team.Info, error) {
	info, err := a.db.Info(ctx)
	if err != nil {
		return info, err
	}
	key, err := team.ParseKey(strings.TrimSpace(b64))
	if err != nil {
		return info, &UsageError{Msg: "the key on stdin is not a team key (" + err.Error() + ")"}
	}
	if fp := key.Fingerprint(); fp != info.KeyFingerprint {
		return info, fmt.Errorf("that key has fingerprint %s, but team %s's is %s: nothing stored", fp, info.ID, info.KeyFingerprint)
	}
	if a.local == nil {
		return info, errors.New("no token store to keep the team key in")
	}
	return info, a.local.Set(ctx, TeamKeyItem(info.ID), key.String())
}

// RotateKey makes a new team key, re-encrypts every ciphertext under it in
// one transaction and stores it here. Other members import the new key.
func (a *TeamAdmin) RotateKey(ctx context.Context) (team.Info, error) {
	old, info, err := a.Key(ctx)
	if err != nil {
		return info, err
	}
	if a.envKey != "" {
		return info, &UsageError{Msg: "$SBCTL_TEAM_KEY is set: rotate on a machine that keeps the key in its keychain, then update the variable"}
	}
	next, err := team.NewKey()
	if err != nil {
		return info, err
	}
	// The new key is stored first, under a pending name: a rotation that
	// commits while this machine cannot keep its key would lock the team out.
	pending := TeamKeyItem(info.ID) + ":next"
	if err := a.local.Set(ctx, pending, next.String()); err != nil {
		return info, fmt.Errorf("storing the new key in %s: %w; nothing rotated", a.local.Describe(), err)
	}
	if err := a.db.RotateKey(ctx, old, next, info.KeyID+1); err != nil {
		if errors.Is(err, team.ErrRotateUnknown) {
			// Whether the database took the new key cannot be known: both
			// keys stay, the new one under its pending name.
			return info, fmt.Errorf("%w (the new key is kept in %s as %s)", err, a.local.Describe(), pending)
		}
		_ = a.local.Delete(ctx, pending)
		return info, err
	}
	if err := a.local.Set(ctx, TeamKeyItem(info.ID), next.String()); err != nil {
		return info, fmt.Errorf("the team key was rotated, but storing it as %s failed (%w): it is kept as %s; copy it over by hand", TeamKeyItem(info.ID), err, pending)
	}
	_ = a.local.Delete(ctx, pending)
	return a.db.Info(ctx)
}

// Info is the team's description (`team status`).
func (a *TeamAdmin) Info(ctx context.Context) (team.Info, error) { return a.db.Info(ctx) }

// Me is the caller's role and groups.
func (a *TeamAdmin) Me(ctx context.Context) (team.Me, error) { return a.db.Me(ctx) }

// AddMember, Members and RemoveMember manage the team's members.
func (a *TeamAdmin) AddMember(ctx context.Context, m team.Member, password *string) error {
	return a.db.AddMember(ctx, m, password)
}
func (a *TeamAdmin) Members(ctx context.Context) ([]team.Member, error) { return a.db.Members(ctx) }
func (a *TeamAdmin) RemoveMember(ctx context.Context, login string) error {
	return a.db.RemoveMember(ctx, login)
}

// Events is the audit log, newest last.
func (a *TeamAdmin) Events(ctx context.Context, profile string, since time.Time) ([]team.Event, error) {
	return a.db.Events(ctx, profile, since)
}

// TeamDatabaseOf is the team database the config file at path names
// (`team: {database: …}`), "" when it names none: what `sbctl team`
// commands connect to when $SBCTL_DATABASE_URL is unset. It reads only the
// file: `team init` must work before the team exists.
func TeamDatabaseOf(path, namedBy string) (string, error) {
	cfg, err := config.Load(path, loadOptions(Options{ConfigNamedBy: namedBy}))
	if err != nil {
		return "", err
	}
	if cfg.Team == nil {
		return "", nil
	}
	return cfg.Team.Database, nil
}
