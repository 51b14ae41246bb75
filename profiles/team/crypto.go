package team

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Key is a team key: the 256-bit AES key every member holds and the
// database never sees. Tokens and client secrets are stored only as
// Seal's output under it.
type Key [32]byte

// sealVersion is the first byte of every ciphertext, so a later format
// (another AEAD, a longer nonce) can be told apart from this one.
const sealVersion byte = 1

const (
	nonceSize = 12 // the GCM standard nonce
	tagSize   = 16
	// sealOverhead is what Seal adds to the plaintext: version, nonce, tag.
	sealOverhead = 1 + nonceSize + tagSize
)

// fingerprintLabel separates the fingerprint's hash from any other use of
// SHA-256 over the key, so publishing the fingerprint tells nothing else.
const fingerprintLabel = "sbctl team key v1"

// adLabel starts every associated data, so a team ciphertext never opens
// under an AD built for another purpose.
const adLabel = "sbctl team ad v1"

// ErrUndecryptable is the one error Open returns, whatever went wrong: a
// wrong key, a ciphertext moved to another row or column, a truncated or
// altered value. Telling these apart would help only an attacker.
var ErrUndecryptable = errors.New("the team key does not open it: another key, or a value altered or moved")

// errBadKey is returned by ParseKey. It never contains the input: a
// half-pasted key is still most of a secret.
var errBadKey = errors.New("not a team key: expected 44 characters of standard base64 encoding 32 bytes (as printed by sbctl team key export)")

// errZeroKey guards against sealing with a Key that was never set, which
// would otherwise "work" and store secrets under an all-zero key.
var errZeroKey = errors.New("team key is not set")

// NewKey returns a fresh random key from crypto/rand.
func NewKey() (Key, error) {
	var k Key
	if _, err := rand.Read(k[:]); err != nil {
		return Key{}, fmt.Errorf("generate team key: %w", err)
	}
	return k, nil
}

// ParseKey decodes a key in the form String prints: standard base64 of
// exactly 32 bytes. Surrounding white space (a pasted line, a trailing
// newline from a file or an environment variable) is ignored.
func ParseKey(b64 string) (Key, error) {
	s := strings.TrimSpace(b64)
	if len(s) != base64.StdEncoding.EncodedLen(len(Key{})) {
		return Key{}, errBadKey
	}
	var buf [33]byte // DecodedLen(44) is 33; the padding makes it 32
	// Strict: a key has one spelling, so a mistyped last character is an
	// error rather than silently the same key.
	n, err := base64.StdEncoding.Strict().Decode(buf[:], []byte(s))
	if err != nil || n != len(Key{}) {
		return Key{}, errBadKey
	}
	var k Key
	copy(k[:], buf[:n])
	clear(buf[:])
	if k.isZero() {
		return Key{}, errBadKey
	}
	return k, nil
}

// String returns the key in standard base64, the form `team key export`
// prints and ParseKey reads. It is the secret itself: fmt verbs do not call
// it (see Format), so only an explicit call can reveal the key.
func (k Key) String() string {
	return base64.StdEncoding.EncodeToString(k[:])
}

// Format makes %v, %s, %q, %x and %#v print the fingerprint instead of the
// key, so a Key inside a logged struct or an error never leaks.
func (k Key) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "team.Key(%s)", k.Fingerprint())
}

// Fingerprint identifies the key without revealing it: the first 8 bytes of
// SHA-256(label || key), in hex, as four groups ("ab12 cd34 ef56 7890").
// Members compare it to know they hold the same key.
func (k Key) Fingerprint() string {
	h := sha256.New()
	h.Write([]byte(fingerprintLabel))
	h.Write(k[:])
	x := hex.EncodeToString(h.Sum(nil)[:8])
	return x[0:4] + " " + x[4:8] + " " + x[8:12] + " " + x[12:16]
}

func (k Key) isZero() bool {
	var zero Key
	return subtle.ConstantTimeCompare(k[:], zero[:]) == 1
}

// AD builds the associated data that binds a ciphertext to its place: the
// team, the table, the row (profile or provider name) and the column. Each
// field is length-prefixed, so no two different places encode alike (with
// a plain separator, row "a|b" in column "c" would equal row "a" in "b|c").
func AD(teamID, table, row, column string) []byte {
	fields := [...]string{teamID, table, row, column}
	n := len(adLabel)
	for _, f := range fields {
		n += 4 + len(f)
	}
	ad := make([]byte, 0, n)
	ad = append(ad, adLabel...)
	for _, f := range fields {
		ad = binary.BigEndian.AppendUint32(ad, uint32(len(f)))
		ad = append(ad, f...)
	}
	return ad
}

// SecretColumn is the column named in every secret's associated data.
const SecretColumn = "ciphertext"

// SecretAD is the associated data of the secret of kind and name (a
// profile's token, a provider's client secret) in team teamID: its table,
// its row (the profile or provider name) and column. It is the one
// definition shared by whatever seals the secrets and RotateKey, which
// re-seals them; changing it makes every stored secret unreadable.
func SecretAD(teamID string, kind SecretKind, name string) []byte {
	return AD(teamID, kind.Table(), name, SecretColumn)
}

func (k Key) aead() (cipher.AEAD, error) {
	if k.isZero() {
		return nil, errZeroKey
	}
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Seal encrypts plain with AES-256-GCM under k, bound to ad (use AD). The
// result is version byte || 12-byte random nonce || ciphertext and tag. The
// version byte is authenticated too.
func (k Key) Seal(plain, ad []byte) ([]byte, error) {
	g, err := k.aead()
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+nonceSize, len(plain)+sealOverhead)
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("team key: random nonce: %w", err)
	}
	return g.Seal(out, out[1:], plain, sealAD(out[0], ad)), nil
}

// Open reverses Seal. Any failure is ErrUndecryptable.
func (k Key) Open(ct, ad []byte) ([]byte, error) {
	if len(ct) < sealOverhead || ct[0] != sealVersion {
		return nil, ErrUndecryptable
	}
	g, err := k.aead()
	if err != nil {
		return nil, ErrUndecryptable
	}
	plain, err := g.Open(nil, ct[1:1+nonceSize], ct[1+nonceSize:], sealAD(ct[0], ad))
	if err != nil {
		return nil, ErrUndecryptable
	}
	return plain, nil
}

// sealAD prefixes the caller's AD with the format version, so the version
// byte cannot be changed without the tag failing.
func sealAD(version byte, ad []byte) []byte {
	out := make([]byte, 0, 1+len(ad))
	out = append(out, version)
	return append(out, ad...)
}
