package config

import (
	"net/url"
	"strings"
	"testing"
)

func TestParseTeam(t *testing.T) {
	t.Parallel()
	for _, db := range []string{
		"postgres://alice@db.example:5432/sbctl?sslmode=verify-full",
		"postgresql:///sbctl?host=/run/postgresql",
		"host=/tmp/pg dbname=sbctl user=alice",
		"host = '/tmp/with space' dbname=sbctl",
	} {
		src := "defaults:\n  expiring_within: 3d\nteam:\n  database: " + yamlQuote(db) + "\n"
		c, err := Parse("config.yaml", []byte(src), presets)
		if err != nil {
			t.Fatalf("%s: %v", db, err)
		}
		if c.Team == nil || c.Team.Database != db || c.Team.Line != 4 {
			t.Errorf("Team = %+v, want database %q at line 4", c.Team, db)
		}
	}
}

func yamlQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

func TestParseWithoutTeamIsFileMode(t *testing.T) {
	t.Parallel()
	c, err := Parse("config.yaml", []byte("defaults:\n  expiring_within: 3d\n"), presets)
	if err != nil {
		t.Fatal(err)
	}
	if c.Team != nil {
		t.Errorf("Team = %+v, want nil", c.Team)
	}
}

func TestParseTeamErrorsNameFileAndLine(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, src, want string }{
		{"scalar", "team: postgres://db/sbctl\n",
			"config.yaml:1: team: expected a mapping such as `team: {database: \"postgres://user@host/dbname\"}`, got the text \"postgres://db/sbctl\""},
		{"empty", "team:\n",
			"config.yaml:1: team: expected a mapping such as `team: {database: \"postgres://user@host/dbname\"}`, got no value"},
		{"no database", "groups: {}\nteam:\n  datbase: x\n",
			"config.yaml:3: team: unknown key \"datbase\" (did you mean \"database\"?); the keys are database\nconfig.yaml:3: team: no database"},
		{"missing value", "team:\n  database:\n",
			"config.yaml:2: team.database: the value is missing"},
		{"empty value", "team:\n  database: \"\"\n",
			"config.yaml:2: team.database: empty: give the team database's connection string"},
		{"list", "team:\n  database: [a]\n",
			"config.yaml:2: team.database: expected a single value, got a list"},
		{"bare host", "\nteam:\n  database: db.example\n",
			"config.yaml:3: team.database: not a PostgreSQL connection string"},
		{"unclosed quote", "team:\n  database: \"host=/tmp password='s3cret\"\n",
			"config.yaml:2: team.database: a quoted value is not closed"},
		{"twice", "team:\n  database: a=b\nteam:\n  database: c=d\n",
			"config.yaml:3: the file: \"team\" is defined twice (first at line 1)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("config.yaml", []byte(tc.src), presets)
			if err == nil {
				t.Fatal("parsed")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error quotes the password: %v", err)
			}
		})
	}
}

// A file-mode edit must keep `team:` as the user wrote it.
func TestEditKeepsTeam(t *testing.T) {
	t.Parallel()
	src := "team:\n  database: host=/tmp/pg dbname=sbctl # ours\nproviders:\n  x:\n    client_id: abc\n"
	c, err := Parse("config.yaml", []byte(src), presets)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddProfile(NewProfile{Name: "acme-x", Provider: "x"}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(c.Bytes()), "team:\n  database: host=/tmp/pg dbname=sbctl # ours\n") {
		t.Errorf("edit changed team:\n%s", c.Bytes())
	}
	if c.Team == nil || c.Team.Database != "host=/tmp/pg dbname=sbctl" {
		t.Errorf("Team after edit = %+v", c.Team)
	}
}

func TestRedactDatabaseURL(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"postgres://alice:s3cret@db.example:5432/sbctl?sslmode=require", "postgres://alice:xxxxx@db.example:5432/sbctl?sslmode=require"},
		{"postgresql://alice@db.example/sbctl", "postgresql://alice@db.example/sbctl"},
		{"POSTGRES://alice:s3cret@h/d", "POSTGRES://alice:xxxxx@h/d"},
		{"postgres://db.example/sbctl?user=alice&password=s3cret&sslmode=require", "postgres://db.example/sbctl?user=alice&password=xxxxx&sslmode=require"},
		{"postgres://h/d?pass%77ord=s3cret", "postgres://h/d?pass%77ord=xxxxx"},
		{"postgres://h/d?sslpassword=s3cret", "postgres://h/d?sslpassword=xxxxx"},
		{"postgres://alice:s3cret@h1:5432,h2:5433/d", "postgres://alice:xxxxx@h1:5432,h2:5433/d"},
		// Unescaped characters a URL password must not hold: hidden whole.
		{"postgres://alice:s3/cr@t@h/d", "postgres://alice:xxxxx@h/d"},
		{"postgres://alice:s3?cr@h/d", "postgres://alice:xxxxx@h/d"},
		{"postgres://alice:s3cret@h/d?application_name=a@b", "postgres://alice:xxxxx@b"},
		{"postgres://alice:@h/d", "postgres://alice:xxxxx@h/d"},
		{"host=/tmp/pg dbname=sbctl", "host=/tmp/pg dbname=sbctl"},
		{"host=/tmp/pg password=s3cret dbname=sbctl", "host=/tmp/pg password=xxxxx dbname=sbctl"},
		{"password = 's3 cr\\'et' host=h", "password=xxxxx host=h"},
		{"PASSWORD=s3cret", "PASSWORD=xxxxx"},
		{"host='/tmp/a b' sslpassword=s3cret", "host='/tmp/a b' sslpassword=xxxxx"},
		{"host=h password='s3cret", "host=h …"},
		{"host=h s3cret", "host=h …"},
		{"s3cret", "…"},
		{"", ""},
	}
	for _, tc := range cases {
		got := RedactDatabaseURL(tc.in)
		if got != tc.want {
			t.Errorf("RedactDatabaseURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if strings.Contains(got, "s3") {
			t.Errorf("RedactDatabaseURL(%q) = %q still shows the password", tc.in, got)
		}
	}
}

func FuzzRedactDatabaseURL(f *testing.F) {
	f.Add("postgres://alice:s3cret@db/sbctl?password=s3cret")
	f.Add("postgres://alice:s3/cr@t@h/d")
	f.Add("host=h password='s3 cret' dbname=d")
	f.Fuzz(func(t *testing.T, s string) {
		got := RedactDatabaseURL(s)
		if rest, ok := uriRest(s); ok {
			// What net/url reads as the password is hidden.
			u, err := url.Parse("postgres://" + rest)
			if err != nil || u.User == nil {
				return
			}
			if p, set := u.User.Password(); set && p != redacted && strings.Contains(got, ":"+p+"@") {
				t.Fatalf("RedactDatabaseURL(%q) = %q keeps the password", s, got)
			}
			return
		}
		// Read back, every secret parameter holds only the mask.
		pairs, _ := parseConninfo(got)
		for _, p := range pairs {
			if secretParam(p.key) && p.val != redacted {
				t.Fatalf("RedactDatabaseURL(%q) = %q keeps %s", s, got, p.key)
			}
		}
	})
}
