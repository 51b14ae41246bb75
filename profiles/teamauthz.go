package profiles

import (
	"context"
	"fmt"
	"sync"

	"github.com/sbctl/sbctl/profiles/team"
)

// Who may do what in team mode (the seed's user types): owners and admins
// re-authenticate, add and remove profiles; members see, verify, refresh
// and get tokens for their groups' profiles; viewers see status only.
// PostgreSQL enforces it (privileges and row-level security); the Manager
// asks first as well, so a refused operation is refused before anything
// happens — a remove never revokes a grant it then may not delete, a
// reauth never opens a browser for a token it may not store.

// Actions, as the refusal words them ("only owners and admins may …").
const (
	actReauth  = "re-authenticate"
	actAdd     = "add profiles"
	actRemove  = "remove profiles"
	actToken   = "read tokens"
	actRefresh = "refresh tokens"
	actVerify  = "verify profiles"
)

var roleRank = map[team.Role]int{team.RoleOwner: 0, team.RoleAdmin: 1, team.RoleMember: 2, team.RoleViewer: 3}

// teamMe caches the caller's role for the Manager's life: one query per
// command, not one per operation.
type teamMe struct {
	once sync.Once
	me   team.Me
	err  error
	ask  func(ctx context.Context) (team.Me, error)
}

func (t *teamMe) get(ctx context.Context) (team.Me, error) {
	t.once.Do(func() { t.me, t.err = t.ask(ctx) })
	return t.me, t.err
}

// mayDo refuses action unless the caller's role is need or above; always
// nil in file mode.
func (m *Manager) mayDo(ctx context.Context, action string, need team.Role) error {
	if m.backend == nil || m.backend.me == nil {
		return nil
	}
	me, err := m.backend.me.get(ctx)
	if err != nil {
		return err
	}
	rank, ok := roleRank[me.Role]
	if ok && rank <= roleRank[need] {
		return nil
	}
	e := &team.PermissionError{Login: me.Login, Role: me.Role, Groups: me.Groups, Action: action}
	if need != team.RoleAdmin {
		e.Need = need
	}
	return e
}

// TeamChanges tells, until ctx ends, that the team's profiles changed
// somewhere (LISTEN/NOTIFY): a front end reloads its list. nil in file
// mode, or when the database cannot listen (the periodic reload remains).
func (m *Manager) TeamChanges(ctx context.Context) <-chan struct{} {
	if m.backend == nil || m.backend.listen == nil {
		return nil
	}
	names, err := m.backend.listen(ctx)
	if err != nil {
		fmt.Fprintf(m.warn, "warning: not listening for the team's changes (%v); the list reloads every minute\n", err)
		return nil
	}
	out := make(chan struct{}, 1)
	go func() {
		defer close(out)
		for range names {
			select {
			case out <- struct{}{}:
			default:
			}
		}
	}()
	return out
}
