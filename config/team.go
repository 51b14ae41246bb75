package config

import (
	"errors"
	"net/url"
	"strings"

	"gopkg.in/yaml.v3"
)

// TeamConfig is the `team:` section: the team database that, in team mode,
// is the source of truth for providers, groups, profiles, tokens, status
// and locks. Config.Team is nil when the file has no `team:`.
//
// Database is a libpq connection string, either form psql accepts: a URL
// (postgres://user@host:5432/dbname?sslmode=verify-full) or key=value
// pairs (host=/run/postgresql dbname=sbctl). It may hold a password: show
// it only through RedactDatabaseURL.
type TeamConfig struct {
	Database string
	Line     int
}

var teamKeys = []string{"database"}

// errDatabaseForm deliberately quotes nothing of the string: a mistyped
// connection string may still hold a password.
var errDatabaseForm = errors.New("not a PostgreSQL connection string: write a URL such as postgres://user@host/dbname, or key=value pairs such as host=/run/postgresql dbname=sbctl")

func (v *validator) team(n *yaml.Node) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		v.errf(n, "team: expected a mapping such as `team: {database: \"postgres://user@host/dbname\"}`, got %s", describe(n))
		return
	}
	t := &TeamConfig{Line: n.Line}
	var database *yaml.Node
	for _, e := range v.entries(n, "team") {
		switch e.name {
		case "database":
			database = e.val
			s, ok := v.text(e.val, "team.database")
			if !ok {
				continue
			}
			if err := ValidateDatabaseURL(s); err != nil {
				v.errf(e.val, "team.database: %v", err)
				continue
			}
			t.Database = s
		default:
			v.unknownKey(e.key, "team", teamKeys)
		}
	}
	if database == nil {
		v.errf(n, "team: no database: add `database: \"postgres://user@host/dbname\"` (or set SBCTL_DATABASE_URL and remove `team:`)")
	}
	v.c.Team = t
}

// ValidateDatabaseURL checks that s has the shape of a libpq connection
// string: non-empty, and either a postgres:// or postgresql:// URL or
// well-formed key=value pairs. Whether it reaches a database is for the
// connection to say. The error never quotes s.
func ValidateDatabaseURL(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("empty: give the team database's connection string")
	}
	if _, ok := uriRest(s); ok {
		return nil
	}
	if _, err := parseConninfo(s); err != nil {
		return err
	}
	return nil
}

// redacted replaces every password in a shown connection string, as
// net/url's Redacted does.
const redacted = "xxxxx"

// secretParams are the connection parameters whose values are secrets:
// the password, and the passphrase of an SSL client key.
func secretParam(key string) bool {
	k := strings.ToLower(key)
	return k == "password" || k == "sslpassword"
}

// RedactDatabaseURL returns s with any password hidden, in either libpq
// form: the user:password@ of a URL and its password= parameter, or the
// password of key=value pairs. Where s cannot be read it hides more rather
// than less: everything from the first place a password could be.
func RedactDatabaseURL(s string) string {
	if rest, ok := uriRest(s); ok {
		return s[:len(s)-len(rest)] + redactURIRest(rest)
	}
	pairs, err := parseConninfo(s)
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p.key)
		b.WriteByte('=')
		if secretParam(p.key) {
			b.WriteString(redacted)
		} else {
			b.WriteString(quoteConninfo(p.val))
		}
	}
	if err != nil {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("…")
	}
	return b.String()
}

// uriRest is what follows the scheme of a libpq URL; ok is false for the
// key=value form (libpq tells the two apart by the scheme alone).
func uriRest(s string) (string, bool) {
	for _, scheme := range []string{"postgresql://", "postgres://"} {
		if len(s) >= len(scheme) && strings.EqualFold(s[:len(scheme)], scheme) {
			return s[len(scheme):], true
		}
	}
	return "", false
}

// redactURIRest hides the password of user:password@ and of password=
// parameters. The credentials end at the last '@': a password with an
// unescaped '@', '/' or '?' in it is then still hidden whole (a later '@'
// in a parameter hides the host too, which is safe).
func redactURIRest(rest string) string {
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		if colon := strings.IndexByte(rest[:at], ':'); colon >= 0 {
			return rest[:colon+1] + redacted + "@" + redactQuery(rest[at+1:])
		}
	}
	return redactQuery(rest)
}

// redactQuery hides the values of secret parameters in the query of a URL
// (the host, path and parameters after the credentials).
func redactQuery(s string) string {
	q := strings.IndexByte(s, '?')
	if q < 0 {
		return s
	}
	params := strings.Split(s[q+1:], "&")
	for i, p := range params {
		k, _, found := strings.Cut(p, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if found && secretParam(k) {
			params[i] = p[:strings.IndexByte(p, '=')+1] + redacted
		}
	}
	return s[:q+1] + strings.Join(params, "&")
}

type conninfoPair struct{ key, val string }

// parseConninfo reads libpq's key=value form: keys and values separated by
// '=' with optional spaces around it, values either bare (up to white
// space) or in single quotes, with backslash escaping a character in both.
// It returns the pairs read before any error.
func parseConninfo(s string) ([]conninfoPair, error) {
	var out []conninfoPair
	i := 0
	for {
		i = skipSpace(s, i)
		if i == len(s) {
			return out, nil
		}
		start := i
		for i < len(s) && s[i] != '=' && !isSpace(s[i]) {
			i++
		}
		key := s[start:i]
		i = skipSpace(s, i)
		if key == "" || i == len(s) || s[i] != '=' {
			return out, errDatabaseForm
		}
		i = skipSpace(s, i+1)
		val, next, err := conninfoValue(s, i)
		if err != nil {
			return out, err
		}
		out = append(out, conninfoPair{key, val})
		i = next
	}
}

// conninfoValue reads one value starting at i and returns it and where the
// next pair may start.
func conninfoValue(s string, i int) (string, int, error) {
	var b strings.Builder
	if i < len(s) && s[i] == '\'' {
		for i++; i < len(s); i++ {
			switch {
			case s[i] == '\\' && i+1 < len(s):
				i++
				b.WriteByte(s[i])
			case s[i] == '\'':
				return b.String(), i + 1, nil
			default:
				b.WriteByte(s[i])
			}
		}
		return "", i, errors.New("a quoted value is not closed: " + errDatabaseForm.Error())
	}
	for ; i < len(s) && !isSpace(s[i]); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String(), i, nil
}

// quoteConninfo writes a value so that parseConninfo reads it back.
func quoteConninfo(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\n\r\f\v'\\") {
		return v
	}
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "'" + r.Replace(v) + "'"
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}
