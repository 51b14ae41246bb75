package tui

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"charm.land/bubbles/v2/cursor"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"charm.land/lipgloss/v2"

	"github.com/sbctl/sbctl/profiles"
)

// The add and remove forms take the body's place and have the keyboard
// while they are open (only ctrl+c still reaches the root). The add form
// is a huh form embedded as a child model; what it asks is the domain's:
// the providers to offer (profiles.SetupChoices), the name's rule
// (Manager.CheckProfileName), and one call that writes it all
// (Manager.SetUp, the edits `providers add` and `profiles add` make). Each
// domain call runs in a tea.Cmd; Update never waits for it.

// formKind is which form is open.
type formKind int

const (
	formClosed     formKind = iota
	formAddPick             // which provider (or network preset)
	formAddDetails          // a new preset's client id; the name and groups
	formRemove              // "Remove p? … [y/N]"
)

// formState is the add/remove forms' state (none open: the zero value).
type formState struct {
	kind formKind
	// gen numbers the forms: a message of a closed form (a cursor blink
	// still on its way) is dropped, never given to a newer one.
	gen int
	// form is the open huh form (one page: fields); w and h the body
	// size it was laid out for.
	form   *huh.Form
	fields []huh.Field
	w, h   int

	add    *addAnswers
	remove removeAsk
}

// addAnswers are what the add form binds its fields to.
type addAnswers struct {
	choices  []profiles.ProviderInfo
	provider string
	clientID string
	secret   string
	name     string
	groups   []string
	// nameField is the name input, whose own error (shown on enter) the
	// live check must not repeat.
	nameField *huh.Input
}

// choice is the provider picked.
func (a *addAnswers) choice() profiles.ProviderInfo {
	i := slices.IndexFunc(a.choices, func(c profiles.ProviderInfo) bool { return c.Name == a.provider })
	if i < 0 {
		return profiles.ProviderInfo{Name: a.provider, Title: a.provider, Configured: true}
	}
	return a.choices[i]
}

// removeAsk is the remove question: which profile, and whether its grant
// is revoked.
type removeAsk struct {
	name, provider string
	// connected: the profile has a token, so removing it revokes the grant
	// at the provider first.
	connected bool
	// keepRemote asks again after a failed revocation: remove only the
	// local copy. failure says why the revocation failed.
	keepRemote bool
	failure    string
}

// formMsg carries a message of the open form's own parts (huh's field
// moves, its inputs' cursor), tagged with the form it belongs to.
type formMsg struct {
	gen int
	msg tea.Msg
}

// formResultMsg is a finished add or remove, for the note line.
type formResultMsg struct {
	kind noteKind
	text string
}

// signInAfterAdd: the profile was added and the list reloaded with it;
// its sign-in is to start now (the root selects the row and starts a
// reauth).
type signInAfterAdd struct{ name string }

// addDoneMsg and removeDoneMsg are the domain's answers.
type addDoneMsg struct {
	name string
	res  profiles.SetupResult
	err  error
}

type removeDoneMsg struct {
	ask removeAsk
	res profiles.RemoveResult
	err error
}

// formUpdate handles the forms' own messages; false for any other.
func (m *Model) formUpdate(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case formMsg:
		if _, blink := msg.msg.(cursor.BlinkMsg); blink || m.form.form == nil || msg.gen != m.form.gen {
			// A blink is dropped, which stops the blinking: an open form
			// that nobody types into wakes nothing up (and the cursor
			// stays shown).
			return nil, true
		}
		return m.updateForm(msg.msg), true
	case tea.PasteMsg:
		// A pasted client id or secret is text for the focused field;
		// the remove question takes no text.
		switch m.form.kind {
		case formClosed:
			return nil, false
		case formRemove:
			return nil, true
		}
		return m.updateForm(msg), true
	case addDoneMsg:
		return m.added(msg), true
	case removeDoneMsg:
		return m.removed(msg), true
	case formResultMsg:
		return m.formNote(msg.kind, msg.text), true
	case signInAfterAdd:
		return m.signInAdded(msg.name), true
	}
	return nil, false
}

// formKey gives a key to an open form first; false when no form has the
// keyboard.
func (m *Model) formKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	switch {
	case !m.formOpen() || msg.String() == "ctrl+c":
		return nil, false
	case m.form.kind == formRemove:
		return m.removeKey(msg), true
	case msg.String() == "esc" && !formFiltering(m.form.form):
		// esc inside a picker's filter clears the filter; anywhere else
		// it leaves the form.
		m.closeForm()
		return m.formNote(noteInfo, "Nothing was added."), true
	}
	return m.updateForm(msg), true
}

// formOpen reports whether a form has the keyboard (and the body).
func (m *Model) formOpen() bool { return m.form.kind != formClosed }

// formView is an open form, drawn in the body's place; "" when none is open.
func (m *Model) formView() string {
	w, h := m.bodySize()
	switch m.form.kind {
	case formClosed:
		return ""
	case formRemove:
		return m.removeView(w, h)
	}
	m.sizeForm(w, h)
	head := m.styles.title.Render("Add a profile") + m.styles.titleInfo.Render("  esc cancel")
	lines := []string{truncate(head, w), m.form.form.View()}
	if s := m.liveCheck(); s != "" {
		lines = append(lines, m.styles.bad.Render(truncate("✗ "+s, w)))
	}
	return fitLines(strings.Join(lines, "\n"), h)
}

// openAdd opens the add form (the `a` key).
func (m *Model) openAdd() tea.Cmd {
	if m.form.kind != formClosed {
		return nil
	}
	a := &addAnswers{choices: m.mgr.SetupChoices()}
	if len(a.choices) == 0 {
		return m.formNote(noteWarn, "No provider to add a profile on: run `sbctl providers add`.")
	}
	a.provider = a.choices[0].Name
	opts := make([]huh.Option[string], len(a.choices))
	for i, c := range a.choices {
		opts[i] = huh.NewOption(choiceLabel(c), c.Name)
	}
	pick := huh.NewSelect[string]().
		Key("provider").
		Title("Which network?").
		Description("Providers in your config first; a network not set up yet asks for your app's client ID.").
		Options(opts...).
		Value(&a.provider)
	return m.openForm(formAddPick, a, pick)
}

// openRemove asks whether to remove the selected profile (the `d` key).
func (m *Model) openRemove() tea.Cmd {
	if m.form.kind != formClosed {
		return nil
	}
	v, ok := m.table.Selected()
	if !ok {
		return m.formNote(noteWarn, "No profile selected.")
	}
	if m.op != nil && slices.Contains(m.op.names, v.Name) {
		// A sign-in finishing after the remove would store a token for a
		// profile that is gone: a live grant nobody sees.
		return m.formNote(noteWarn, fmt.Sprintf("%s is busy (%s): wait for it, or press esc to cancel it, then remove it.", clean(v.Name), m.op.describe()))
	}
	m.form = formState{kind: formRemove, gen: m.form.gen + 1, remove: removeAsk{
		name: v.Name, provider: v.Provider, connected: v.Status != profiles.StatusNotConnected,
	}}
	return nil
}

func (m *Model) openForm(kind formKind, a *addAnswers, fields ...huh.Field) tea.Cmd {
	theme := huh.ThemeBase(m.styles.isDark)
	f := huh.NewForm(huh.NewGroup(fields...)).
		WithTheme(huh.ThemeFunc(func(bool) *huh.Styles { return theme })).
		WithKeyMap(formKeyMap())
	m.form = formState{kind: kind, gen: m.form.gen + 1, form: f, fields: fields, add: a}
	init := f.Init()
	w, h := m.bodySize()
	return tea.Batch(tagCmd(m.form.gen, init), m.sizeForm(w, h))
}

func (m *Model) closeForm() {
	m.form = formState{gen: m.form.gen}
}

// formKeyMap is huh's, with ctrl+c left to the root (it ends the TUI).
func formKeyMap() *huh.KeyMap {
	k := huh.NewDefaultKeyMap()
	k.Quit.SetEnabled(false)
	return k
}

// updateForm gives the open huh form a message and acts on its end.
func (m *Model) updateForm(msg tea.Msg) tea.Cmd {
	f := m.form.form
	_, cmd := f.Update(msg)
	switch f.State {
	case huh.StateCompleted:
		// Its last commands (a blur, a cursor blink) are of no use now.
		return m.formCompleted()
	case huh.StateAborted:
		m.closeForm()
		return nil
	}
	return tagCmd(m.form.gen, cmd)
}

// formCompleted moves from the provider to the details, and from the
// details to the work.
func (m *Model) formCompleted() tea.Cmd {
	a := m.form.add
	if m.form.kind == formAddPick {
		return m.openForm(formAddDetails, a, m.detailsFields(a)...)
	}
	m.closeForm()
	name := strings.TrimSpace(a.name)
	return tea.Batch(m.formNote(noteInfo, fmt.Sprintf("Adding %s…", name)), m.addWork(a))
}

// detailsFields ask what the profile needs: for a network not set up yet,
// the app's client id (and secret), with the redirect URI to register;
// then the profile's name and groups.
func (m *Model) detailsFields(a *addAnswers) []huh.Field {
	c := a.choice()
	var fields []huh.Field
	if !c.Configured {
		fields = append(fields,
			huh.NewInput().Key("client_id").
				Title("Client ID of your "+c.Title+" app").
				Description(c.RegisterText()).
				Value(&a.clientID).
				Validate(profiles.CheckClientIDAnswer))
		if c.NeedsSecret {
			fields = append(fields, huh.NewInput().
				Key("client_secret").
				Title("Client secret of your "+c.Title+" app").
				Description("Not shown as you type; stored in the keychain. Empty: set it later with `sbctl providers set-secret "+c.Name+"`.").
				EchoMode(huh.EchoModeNone).
				Value(&a.secret).
				Validate(profiles.CheckClientSecretAnswer))
		}
	}
	a.nameField = huh.NewInput().
		Key("name").
		Title("Profile name").
		Description("on " + clean(c.Name) + "; letters, digits, - _ . @").
		Value(&a.name).
		Validate(func(s string) error { return m.mgr.CheckProfileName(strings.TrimSpace(s)) })
	fields = append(fields, a.nameField)
	if gs := m.mgr.GroupNames(); len(gs) > 0 {
		fields = append(fields, huh.NewMultiSelect[string]().
			Key("groups").
			Title("Groups (optional)").
			Options(huh.NewOptions(gs...)...).
			Value(&a.groups))
	}
	return fields
}

// liveCheck is the name's problem as it is typed, before enter asks huh
// to check it ("" when there is none, or huh already shows it).
func (m *Model) liveCheck() string {
	a := m.form.add
	if m.form.kind != formAddDetails || a == nil || a.nameField == nil || a.nameField.Error() != nil {
		return ""
	}
	if strings.TrimSpace(a.name) == "" {
		return ""
	}
	if err := m.mgr.CheckProfileName(strings.TrimSpace(a.name)); err != nil {
		return err.Error()
	}
	return ""
}

// addWork writes the answers through the domain: the provider (for a
// network not set up yet) and its secret, then the profile.
func (m *Model) addWork(a *addAnswers) tea.Cmd {
	c := a.choice()
	name := strings.TrimSpace(a.name)
	spec := profiles.SetupSpec{Profile: &profiles.AddSpec{Name: name, Provider: c.Name, Groups: a.groups}}
	if !c.Configured {
		spec.Providers = []profiles.ProviderSetup{{Preset: c.Name, ClientID: a.clientID, ClientSecret: a.secret}}
	}
	a.secret = "" // held by spec alone from here
	mgr, ctx, tr := m.mgr, m.ctx, m.tracker
	return func() tea.Msg {
		if !tr.begin() {
			return nil
		}
		defer tr.end()
		res, err := mgr.SetUp(ctx, spec)
		return addDoneMsg{name: name, res: res, err: err}
	}
}

// added reports an add; on success the list is reloaded with the new
// profile, and then its sign-in starts.
func (m *Model) added(msg addDoneMsg) tea.Cmd {
	name := clean(msg.name)
	var setUp string
	for _, p := range msg.res.Providers {
		setUp += fmt.Sprintf(" Register %s with %s if you have not yet.", p.RedirectURI, p.Title)
	}
	if msg.err != nil {
		text := fmt.Sprintf("Could not add %s: %v", name, msg.err)
		if len(msg.res.Providers) > 0 {
			text += fmt.Sprintf(" (provider %s was added.%s)", msg.res.Providers[0].Name, setUp)
		}
		return tea.Batch(result(noteErr, text), loadList(m.ctx, m.mgr))
	}
	text := fmt.Sprintf("Added %s; signing in…", name)
	if len(msg.res.Providers) > 0 {
		text = fmt.Sprintf("Added provider %s and profile %s; signing in…%s", msg.res.Providers[0].Name, name, setUp)
	}
	return tea.Sequence(result(noteOK, text), loadList(m.ctx, m.mgr), func() tea.Msg { return signInAfterAdd{name: msg.res.Profile} })
}

// removeKey answers the remove question: y removes; n, enter and esc keep
// (the default is no); other keys are ignored while it is asked.
func (m *Model) removeKey(msg tea.KeyPressMsg) tea.Cmd {
	ask := m.form.remove
	switch msg.String() {
	case "y", "Y":
		m.closeForm()
		return tea.Batch(m.formNote(noteInfo, fmt.Sprintf("Removing %s…", clean(ask.name))), m.removeWork(ask))
	case "n", "N", "enter", "esc":
		m.closeForm()
		return m.formNote(noteInfo, fmt.Sprintf("Kept %s; nothing was removed.", clean(ask.name)))
	}
	return nil
}

// question says what removing does, before it is done.
func (ask removeAsk) question() string {
	name, prov := clean(ask.name), clean(ask.provider)
	switch {
	case ask.keepRemote:
		return fmt.Sprintf("Revoking the grant of %s at %s failed: %s. Nothing was removed.\nRemove only the local copy (its token and config entry)? The grant stays at %s until you remove the app's access in its settings. [y/N]", name, prov, clean(ask.failure), prov)
	case ask.connected:
		return fmt.Sprintf("Remove %s? This revokes its grant at %s and deletes its token and config entry. [y/N]", name, prov)
	}
	return fmt.Sprintf("Remove %s? It has no token, so nothing is revoked: this deletes its config entry. [y/N]", name)
}

func (m *Model) removeView(w, h int) string {
	q := lipgloss.NewStyle().Width(max(w, 1)).Render(m.form.remove.question())
	hint := m.styles.titleInfo.Render(truncate("y remove · n, enter or esc keep", w))
	return fitLines(m.styles.bold.Render(truncate("Remove a profile", w))+"\n\n"+q+"\n\n"+hint, h)
}

// removeWork removes through the domain, as `profiles remove` does: revoke
// (unless only the local copy goes), delete the token, the config entry.
func (m *Model) removeWork(ask removeAsk) tea.Cmd {
	mgr, ctx, tr := m.mgr, m.ctx, m.tracker
	return func() tea.Msg {
		if !tr.begin() {
			return nil
		}
		defer tr.end()
		res, err := mgr.Remove(ctx, ask.name, profiles.RemoveOptions{KeepRemote: ask.keepRemote})
		return removeDoneMsg{ask: ask, res: res, err: err}
	}
}

// removed reports a remove. A revocation that failed changed nothing; the
// question comes back, offering to remove only the local copy.
func (m *Model) removed(msg removeDoneMsg) tea.Cmd {
	ask, name, prov := msg.ask, clean(msg.ask.name), clean(msg.ask.provider)
	var refused *profiles.RemoveRefusedError
	switch {
	case errors.As(msg.err, &refused) && refused.KeepRemote && !ask.keepRemote && m.form.kind == formClosed:
		ask.keepRemote, ask.failure = true, errors.Unwrap(refused.Err).Error()
		m.form = formState{kind: formRemove, gen: m.form.gen + 1, remove: ask}
		return m.formNote(noteWarn, fmt.Sprintf("Revoking %s at %s failed; nothing was removed.", name, prov))
	case errors.As(msg.err, &refused):
		return result(noteErr, fmt.Sprintf("Could not remove %s: %v. Nothing was removed; `sbctl profiles remove %s --force` removes it anyway.", name, msg.err, name))
	case msg.err != nil:
		return tea.Batch(result(noteErr, fmt.Sprintf("Could not remove %s: %v", name, msg.err)), loadList(m.ctx, m.mgr))
	}
	text := fmt.Sprintf("Removed %s.", name)
	switch {
	case msg.res.Revoked:
		text = fmt.Sprintf("Removed %s and revoked its grant at %s.", name, prov)
	case msg.res.NoRevoke:
		text = fmt.Sprintf("Removed %s. %s offers no revocation: remove the app's access in its settings if it should end now.", name, prov)
	case ask.keepRemote:
		text = fmt.Sprintf("Removed the local copy of %s; the grant at %s stays until you remove the app's access there.", name, prov)
	}
	return tea.Batch(result(noteOK, text), loadList(m.ctx, m.mgr))
}

// formNote shows a form's outcome on the note line (the Cmd fades a
// success note).
func (m *Model) formNote(k noteKind, text string) tea.Cmd { return m.setNote(k, text) }

func result(k noteKind, text string) tea.Cmd {
	return func() tea.Msg { return formResultMsg{kind: k, text: text} }
}

// bodySize is the box the root gives the body (the table's).
func (m *Model) bodySize() (int, int) {
	w, h := m.table.width, m.table.height
	if w <= 0 || h <= 0 {
		w, h = m.size()
		h = max(h-3, 2)
	}
	return w, h
}

// sizeForm lays the huh form out for the body: the title line above it
// and the live check below take two lines. huh sizes itself from a window
// size message, which the root keeps for itself: the form gets one of its
// own, the body's.
func (m *Model) sizeForm(w, h int) tea.Cmd {
	if m.form.form == nil || (m.form.w == w && m.form.h == h) {
		return nil
	}
	m.form.w, m.form.h = w, h
	// huh only ever shrinks a field to fit: back to its natural height
	// first, so a larger screen shows more again.
	for _, f := range m.form.fields {
		f.WithHeight(0)
	}
	_, cmd := m.form.form.Update(tea.WindowSizeMsg{Width: w, Height: max(h-2, 3)})
	return tagCmd(m.form.gen, cmd)
}

// formFiltering reports whether the focused field is a picker whose filter
// has the keyboard (esc then belongs to it).
func formFiltering(f *huh.Form) bool {
	if f == nil {
		return false
	}
	fl, ok := f.GetFocusedField().(interface{ GetFiltering() bool })
	return ok && fl.GetFiltering()
}

// choiceLabel is how the picker shows a provider.
func choiceLabel(c profiles.ProviderInfo) string {
	if c.Configured {
		return fmt.Sprintf("%s (%s)", clean(c.Name), clean(c.Title))
	}
	return fmt.Sprintf("%s (%s), not set up yet: needs your app's client ID", clean(c.Title), clean(c.Name))
}

// fitLines makes s exactly h lines, as the table it replaces is: the form
// never pushes the footer off the screen, nor pulls it up.
func fitLines(s string, h int) string {
	h = max(h, 1)
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

var cmdType = reflect.TypeFor[tea.Cmd]()

// tagCmd makes the messages of cmd (a huh form's) arrive as formMsg of
// form gen, so the root hands them to the forms and a closed form's late
// ones can be told apart. Batches and sequences are opened so that each
// of their commands is tagged and the program still runs them its way;
// bubbletea's own messages (a window size request) go through untouched.
func tagCmd(gen int, cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	return func() tea.Msg {
		msg := cmd()
		if msg == nil {
			return nil
		}
		v := reflect.ValueOf(msg)
		if v.Kind() == reflect.Slice && v.Type().Elem() == cmdType {
			// tea.BatchMsg, or tea.Sequence's unexported type: the same
			// type, each command tagged.
			out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
			for i := range v.Len() {
				inner, _ := v.Index(i).Interface().(tea.Cmd)
				out.Index(i).Set(reflect.ValueOf(tagCmd(gen, inner)))
			}
			return out.Interface()
		}
		if v.Type().PkgPath() == teaPkg {
			return msg
		}
		return formMsg{gen: gen, msg: msg}
	}
}

var teaPkg = reflect.TypeFor[tea.BatchMsg]().PkgPath()

// signInAdded starts the sign-in of the profile just added (the list was
// reloaded first, so it is there) and selects it, unless a filter or a
// group hides it: then the note says how to sign it in.
func (m *Model) signInAdded(name string) tea.Cmd {
	m.table.SetCursor(m.table.find(name, ""))
	if v, ok := m.table.Selected(); !ok || v.Name != name {
		return m.setNote(noteWarn, fmt.Sprintf("Added %s; a filter or group hides it: select it and press r to sign it in.", clean(name)))
	}
	return m.startOn(opReauth, name)
}
