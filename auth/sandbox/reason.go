package sandbox

// Reason is the sandbox's word for why a grant or token died: the value of
// the "reason" member it adds to error bodies, introspection answers and
// userinfo answers, and the cause an admin call kills an account's grants
// with.
//
// The values are the reasons of SPEC §1, which sbctl's client maps back to
// its own vocabulary. They are spelled out here, not borrowed from the
// client's package: the server's wire format is a contract of its own, so
// renaming a constant on the client's side must not silently change what the
// server answers (TestWireReasons pins every value).
type Reason string

const (
	// ReasonExpired: the token's (or the whole account's) lifetime ended.
	ReasonExpired Reason = "expired"
	// ReasonPasswordChanged: the account's password changed, which ended
	// every session of it.
	ReasonPasswordChanged Reason = "password_changed"
	// ReasonAccessRevoked: the user removed the app, the grant was revoked
	// (RFC 7009), or reuse of a refresh token or a code killed it.
	ReasonAccessRevoked Reason = "access_revoked"
	// ReasonConsentExpired: a consent or data-access period ended. The
	// sandbox does not issue it yet; it is part of the vocabulary so that a
	// fault added later speaks the same words as the client expects.
	ReasonConsentExpired Reason = "consent_expired"
	// ReasonInvalid: any other definite rejection. Not issued yet either.
	ReasonInvalid Reason = "invalid"
)
