package team

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// testKey is bytes 0..31: a fixed key so the golden fingerprint below can be
// checked by anyone (python3: sha256(b"sbctl team key v1"+bytes(range(32)))).
func testKey() Key {
	var k Key
	for i := range k {
		k[i] = byte(i)
	}
	return k
}

func mustKey(t testing.TB) Key {
	t.Helper()
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpenRoundTrip(t *testing.T) {
	t.Parallel()
	k := mustKey(t)
	ad := AD("team-1", "tokens", "acme-x", "ciphertext")
	for _, plain := range [][]byte{nil, {}, []byte("x"), []byte(`{"access_token":"sbx-a","refresh_token":"sbx-r"}`), bytes.Repeat([]byte{0xff}, 64<<10)} {
		ct, err := k.Seal(plain, ad)
		if err != nil {
			t.Fatal(err)
		}
		if len(ct) != len(plain)+sealOverhead {
			t.Errorf("len(ct) = %d, want %d", len(ct), len(plain)+sealOverhead)
		}
		if len(plain) >= 8 && bytes.Contains(ct, plain) {
			t.Errorf("ciphertext contains the plaintext")
		}
		got, err := k.Open(ct, ad)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if !bytes.Equal(got, plain) {
			t.Errorf("Open = %q, want %q", got, plain)
		}
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	t.Parallel()
	k := mustKey(t)
	ad := AD("t", "tokens", "p", "ciphertext")
	a, _ := k.Seal([]byte("same"), ad)
	b, _ := k.Seal([]byte("same"), ad)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of one plaintext are identical: nonce reused")
	}
}

// A ciphertext copied to another team, table, row or column must not open:
// that is what stops a member with write access to one row from planting
// another profile's token there.
func TestOpenRefusesMovedCiphertext(t *testing.T) {
	t.Parallel()
	k := mustKey(t)
	ct, err := k.Seal([]byte("sbx-secret"), AD("team-1", "tokens", "acme-x", "ciphertext"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ad := range [][]byte{
		AD("team-2", "tokens", "acme-x", "ciphertext"),
		AD("team-1", "providers", "acme-x", "ciphertext"),
		AD("team-1", "tokens", "acme-y", "ciphertext"),
		AD("team-1", "tokens", "acme-x", "client_secret"),
		nil,
		[]byte("team-1|tokens|acme-x|ciphertext"),
	} {
		if _, err := k.Open(ct, ad); !errors.Is(err, ErrUndecryptable) {
			t.Errorf("Open under AD %q: err = %v, want ErrUndecryptable", ad, err)
		}
	}
}

func TestADIsUnambiguous(t *testing.T) {
	t.Parallel()
	// With a plain separator these pairs would encode alike.
	pairs := [][2][]byte{
		{AD("t", "tokens", "a|b", "c"), AD("t", "tokens", "a", "b|c")},
		{AD("t", "tokens", "ab", ""), AD("t", "tokens", "a", "b")},
		{AD("", "ttokens", "p", "c"), AD("t", "tokens", "p", "c")},
	}
	for _, p := range pairs {
		if bytes.Equal(p[0], p[1]) {
			t.Errorf("AD collision: %q", p[0])
		}
	}
	if !bytes.Equal(AD("t", "tokens", "p", "c"), AD("t", "tokens", "p", "c")) {
		t.Error("AD is not deterministic")
	}
}

func TestOpenRefusesWrongKey(t *testing.T) {
	t.Parallel()
	ad := AD("t", "tokens", "p", "ciphertext")
	ct, _ := mustKey(t).Seal([]byte("sbx-secret"), ad)
	if _, err := mustKey(t).Open(ct, ad); !errors.Is(err, ErrUndecryptable) {
		t.Fatalf("err = %v, want ErrUndecryptable", err)
	}
	if _, err := (Key{}).Open(ct, ad); !errors.Is(err, ErrUndecryptable) {
		t.Fatalf("zero key: err = %v, want ErrUndecryptable", err)
	}
}

func TestOpenRefusesEveryTamperedByte(t *testing.T) {
	t.Parallel()
	k := mustKey(t)
	ad := AD("t", "tokens", "p", "ciphertext")
	ct, err := k.Seal([]byte("sbx-secret-token"), ad)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ct {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			bad := bytes.Clone(ct)
			bad[i] ^= mask
			if _, err := k.Open(bad, ad); !errors.Is(err, ErrUndecryptable) {
				t.Fatalf("byte %d ^ %#x: err = %v, want ErrUndecryptable", i, mask, err)
			}
		}
	}
	for n := range len(ct) {
		if _, err := k.Open(ct[:n], ad); !errors.Is(err, ErrUndecryptable) {
			t.Fatalf("truncated to %d bytes: err = %v, want ErrUndecryptable", n, err)
		}
	}
	if _, err := k.Open(append(bytes.Clone(ct), 0), ad); !errors.Is(err, ErrUndecryptable) {
		t.Fatalf("extended: err = %v, want ErrUndecryptable", err)
	}
}

func TestSealRefusesZeroKey(t *testing.T) {
	t.Parallel()
	if _, err := (Key{}).Seal([]byte("x"), nil); err == nil {
		t.Fatal("Seal under the zero key succeeded")
	}
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	const golden = "be67 8d18 e0e2 8946"
	if got := testKey().Fingerprint(); got != golden {
		t.Errorf("Fingerprint = %q, want %q", got, golden)
	}
	if a, b := mustKey(t).Fingerprint(), mustKey(t).Fingerprint(); a == b {
		t.Errorf("two keys share fingerprint %q", a)
	}
	other := testKey()
	other[31] ^= 1
	if other.Fingerprint() == golden {
		t.Error("a one-bit change kept the fingerprint")
	}
}

func TestKeyStringParseRoundTrip(t *testing.T) {
	t.Parallel()
	const golden = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	if got := testKey().String(); got != golden {
		t.Fatalf("String = %q, want %q", got, golden)
	}
	for _, in := range []string{golden, golden + "\n", "  " + golden + "\r\n"} {
		k, err := ParseKey(in)
		if err != nil {
			t.Fatalf("ParseKey(%q): %v", in, err)
		}
		if k != testKey() {
			t.Fatalf("ParseKey(%q) gave another key", in)
		}
	}
	k := mustKey(t)
	back, err := ParseKey(k.String())
	if err != nil || back != k {
		t.Fatalf("round trip: %v", err)
	}
}

func TestParseKeyRefusesWithoutEchoing(t *testing.T) {
	t.Parallel()
	good := testKey().String()
	for _, in := range []string{
		"",
		good[:43],                    // truncated
		good + "A",                   // too long
		good[:42] + "==",             // 31 bytes
		good[:43] + "!",              // not base64
		strings.TrimRight(good, "="), // no padding
		good[:42] + "f=",             // non-canonical trailing bits
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", // all zero
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8fHyA=",
	} {
		_, err := ParseKey(in)
		if err == nil {
			t.Errorf("ParseKey(%q) succeeded", in)
			continue
		}
		if len(in) > 8 && strings.Contains(err.Error(), in[:8]) {
			t.Errorf("ParseKey error echoes its input: %v", err)
		}
	}
}

// fmt must never print the key: a Key in a logged struct or a wrapped error
// would otherwise leak the whole secret.
func TestKeyFormatHidesSecret(t *testing.T) {
	t.Parallel()
	k := testKey()
	secret := k.String()
	type holder struct{ K Key }
	for _, s := range []string{
		fmt.Sprint(k), fmt.Sprintf("%v %s %q %x %X %#v %+v %d", k, k, k, k, k, k, k, k),
		fmt.Sprintf("%v %+v %#v", holder{k}, holder{k}, &holder{k}),
		fmt.Errorf("wrap: %v", k).Error(),
	} {
		if strings.Contains(s, secret) || strings.Contains(s, secret[:16]) || strings.Contains(s, "0x0 0x1 0x2") || strings.Contains(s, "000102030405") {
			t.Errorf("formatted key leaks: %s", s)
		}
		if !strings.Contains(s, k.Fingerprint()) {
			t.Errorf("formatted key %q does not show the fingerprint", s)
		}
	}
}

func FuzzOpen(f *testing.F) {
	k := testKey()
	ad := AD("t", "tokens", "p", "ciphertext")
	ct, err := k.Seal([]byte("seed"), ad)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ct, ad)
	f.Add([]byte{}, []byte{})
	f.Add([]byte{sealVersion}, ad)
	f.Add(bytes.Repeat([]byte{sealVersion}, sealOverhead), ad)
	f.Fuzz(func(t *testing.T, ct, ad []byte) {
		plain, err := k.Open(ct, ad)
		if err != nil {
			if !errors.Is(err, ErrUndecryptable) || err.Error() != ErrUndecryptable.Error() {
				t.Fatalf("Open failed with another error: %v", err)
			}
			return
		}
		// Only a genuine ciphertext opens, and then it is exactly what
		// Seal would have framed around the plaintext.
		if len(ct) != len(plain)+sealOverhead || ct[0] != sealVersion {
			t.Fatalf("Open accepted a malformed frame of %d bytes", len(ct))
		}
	})
}

func BenchmarkSealOpen(b *testing.B) {
	k := testKey()
	ad := AD("team-id", "tokens", "acme-x", "ciphertext")
	plain := bytes.Repeat([]byte("t"), 512)
	for b.Loop() {
		ct, err := k.Seal(plain, ad)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := k.Open(ct, ad); err != nil {
			b.Fatal(err)
		}
	}
}
