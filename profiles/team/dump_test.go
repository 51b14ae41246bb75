package team

import (
	"bytes"
	"os"
	"os/exec"
	"testing"

	"github.com/sbctl/sbctl/profiles/team/teamtest"
)

// TestDumpHoldsOnlyWhatWasStored: pg_dump of a team database holds the
// ciphertexts as stored and nothing else secret — no plaintext the
// clients never sent, no member's password. (That the ciphertexts are
// real encryptions is the end-to-end test's job.)
func TestDumpHoldsOnlyWhatWasStored(t *testing.T) {
	t.Parallel()
	pgDump, err := exec.LookPath("pg_dump")
	if err != nil {
		if os.Getenv("SBCTL_REQUIRE_POSTGRES") == "1" {
			t.Fatal("pg_dump not on PATH (SBCTL_REQUIRE_POSTGRES=1)")
		}
		t.Skip("pg_dump not on PATH")
	}
	url, owner := fleet(t)
	ctx := testCtx(t)
	ct := []byte("opaque-ciphertext-" + teamtest.Random())
	if err := owner.PutSecret(ctx, SecretToken, "mk1", ct, 1); err != nil {
		t.Fatal(err)
	}
	password := "sbx-password-" + teamtest.Random()
	login := teamtest.Name("dumped")
	if err := owner.AddMember(ctx, Member{Login: login, Role: RoleMember}, &password); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, pgDump, "--dbname="+url)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	dump, err := cmd.Output()
	if err != nil {
		t.Fatalf("pg_dump: %v: %s", err, stderr.Bytes())
	}
	// bytea is dumped as hex: look for the ciphertext in that form.
	if !bytes.Contains(dump, []byte(hexOf(ct))) {
		t.Fatal("the dump does not hold the stored ciphertext: the check below would prove nothing")
	}
	for _, secret := range []string{password, "sbx-"} {
		if bytes.Contains(dump, []byte(secret)) {
			t.Errorf("the dump holds %q", secret)
		}
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
