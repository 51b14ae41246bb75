package auth

// Reason says why a connection needs the user's attention. The values are a
// contract (SPEC §1): scripts read them from `profiles list -o json`.
type Reason string

const (
	ReasonNone            Reason = ""
	ReasonExpired         Reason = "expired"          // the access token's lifetime ended and no refresh worked
	ReasonPasswordChanged Reason = "password_changed" // the account's password or username changed
	ReasonAccessRevoked   Reason = "access_revoked"   // the user or the provider revoked the grant
	ReasonConsentExpired  Reason = "consent_expired"  // a data-access or refresh-token lifetime ended
	ReasonInvalid         Reason = "invalid"          // any other definite rejection
)

// Reasons lists every non-empty reason, in the order of SPEC §1.
var Reasons = []Reason{ReasonExpired, ReasonPasswordChanged, ReasonAccessRevoked, ReasonConsentExpired, ReasonInvalid}

// Explain is the sentence shown to a person for a reason.
func (r Reason) Explain() string {
	switch r {
	case ReasonExpired:
		return "the access token expired and could not be renewed"
	case ReasonPasswordChanged:
		return "the account's password or username changed"
	case ReasonAccessRevoked:
		return "access to the app was removed or revoked"
	case ReasonConsentExpired:
		return "the network's consent or data-access period ended"
	case ReasonInvalid:
		return "the network rejected the token"
	}
	return ""
}
