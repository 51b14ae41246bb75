package profiles

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/config"
)

// TeamImportResult is what `sbctl team import` did: what it added, and
// what it left alone because the team has an entry of that name already
// (the team's wins: an import never overwrites what a member set up).
type TeamImportResult struct {
	Providers, Groups, Profiles []string
	Tokens, ClientSecrets       []string
	Skipped                     []string // "profile \"acme-x\" (the team has one)"
	Problems                    []string // what could not be copied, and why
}

// ImportIntoTeam pushes this machine's providers, groups, profiles and
// their tokens (local: a file-mode Manager on this machine's files) into
// the team (tm: a team-mode Manager). The catalog goes in one
// transaction; then each new profile's token, client secrets and status.
// Run again, it adds nothing twice.
func ImportIntoTeam(ctx context.Context, local, tm *Manager) (TeamImportResult, error) {
	var res TeamImportResult
	if !tm.TeamMode() || local.TeamMode() {
		return res, errors.New("team import reads this machine's files into the team database")
	}
	lc := local.config()
	err := tm.editConfig(ctx, func(c *config.Config) error {
		res = TeamImportResult{} // a retry starts over
		return importCatalog(c, lc, &res)
	})
	if err != nil {
		return res, err
	}
	ls, err := local.Store()
	if err != nil {
		res.Problems = append(res.Problems, "this machine's token store cannot be opened, so no token was copied: "+err.Error())
		return res, nil
	}
	ts, err := tm.Store()
	if err != nil {
		return res, err
	}
	for _, p := range res.Providers {
		secret, err := ls.Get(ctx, store.ClientKey(p))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err == nil {
			err = ts.Set(ctx, store.ClientKey(p), secret)
		}
		if err != nil {
			res.Problems = append(res.Problems, fmt.Sprintf("client secret of %q: %v", p, err))
			continue
		}
		res.ClientSecrets = append(res.ClientSecrets, p)
	}
	copyTokens(ctx, local, tm, ls, ts, &res)
	return res, nil
}

// importCatalog adds to c (the team's catalog being edited) every entry
// of lc it lacks: providers first (profiles name them), then groups, then
// profiles.
func importCatalog(c, lc *config.Config, res *TeamImportResult) error {
	for _, p := range lc.Providers {
		if _, ok := c.Provider(p.Name); ok {
			res.Skipped = append(res.Skipped, fmt.Sprintf("provider %q (the team has one)", p.Name))
			continue
		}
		if err := c.AddProvider(newProviderOf(p)); err != nil {
			return fmt.Errorf("provider %q: %w", p.Name, err)
		}
		res.Providers = append(res.Providers, p.Name)
	}
	for _, g := range lc.Groups {
		if _, ok := c.Group(g.Name); ok {
			res.Skipped = append(res.Skipped, fmt.Sprintf("group %q (the team has one)", g.Name))
			continue
		}
		if err := c.AddGroup(g.Name, g.Description); err != nil {
			return fmt.Errorf("group %q: %w", g.Name, err)
		}
		res.Groups = append(res.Groups, g.Name)
	}
	for _, p := range lc.Profiles {
		if _, ok := c.Profile(p.Name); ok {
			res.Skipped = append(res.Skipped, fmt.Sprintf("profile %q (the team has one; its token stays the team's)", p.Name))
			continue
		}
		if err := c.AddProfile(config.NewProfile{Name: p.Name, Provider: p.Provider, Groups: p.Groups, Scopes: p.Scopes}); err != nil {
			return fmt.Errorf("profile %q: %w", p.Name, err)
		}
		res.Profiles = append(res.Profiles, p.Name)
	}
	return nil
}

func newProviderOf(p *config.Provider) config.NewProvider {
	typ := p.Type
	if typ == p.Name {
		typ = ""
	}
	return config.NewProvider{
		Name: p.Name, Type: typ, ClientID: p.ClientID,
		Issuer: p.Issuer, AuthURL: p.AuthURL, TokenURL: p.TokenURL, RevokeURL: p.RevokeURL, IntrospectURL: p.IntrospectURL,
		UserinfoURL: p.UserinfoURL, DeviceAuthURL: p.DeviceAuthURL, Scopes: p.Scopes,
		Redirect: p.Redirect, RedirectPort: p.RedirectPort, RelayURL: p.RelayURL, RedirectPath: p.RedirectPath,
		GraphVersion: p.GraphVersion, ClientAuth: p.ClientAuth,
	}
}

// copyTokens moves each newly imported profile's token and status into
// the team. The token is copied under the team's lock of the profile, as a
// renewal would write it.
func copyTokens(ctx context.Context, local, tm *Manager, ls, ts store.Store, res *TeamImportResult) {
	state, _ := local.State.Load()
	var records = map[string]*Record{}
	for _, name := range res.Profiles {
		tok, err := store.GetToken(ctx, ls, name)
		if errors.Is(err, store.ErrNotFound) {
			continue // never connected here: not connected in the team
		}
		if err == nil {
			err = store.PutToken(withAudit(ctx, auditConnect, "imported from "+host()), ts, name, tok)
		}
		if err != nil {
			res.Problems = append(res.Problems, fmt.Sprintf("token of %q: %v", name, err))
			continue
		}
		res.Tokens = append(res.Tokens, name)
		if rec := state.Profiles[name]; rec != nil {
			records[name] = rec
		}
	}
	if len(records) == 0 {
		return
	}
	err := tm.updateState(ctx, func(s *State) error {
		for name, rec := range records {
			if !slices.Contains(res.Tokens, name) {
				continue
			}
			s.Profiles[name] = rec
		}
		return nil
	})
	if err != nil {
		res.Problems = append(res.Problems, "status records: "+err.Error()+" (run `sbctl profiles verify --all` to record them again)")
	}
}
