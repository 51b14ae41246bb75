package profiles

// PresetNames lists what a provider's `type` may name: the network presets
// and the generic kinds.
func PresetNames() []string {
	return []string{"facebook", "instagram", "threads", "linkedin", "x", "google", "youtube", "tiktok", "pinterest", "oidc", "oauth2"}
}
