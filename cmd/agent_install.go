package cmd

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/spf13/cobra"

	"github.com/sbctl/sbctl/profiles"
)

// `sbctl agent install` makes the agent a service of the user's session,
// where the keychain (Secret Service, the login keychain, the Credential
// Manager) is reachable — unlike cron, which runs outside it: a systemd
// user unit on Linux, a launchd agent on macOS, a Task Scheduler task run
// at logon on Windows.

// Names of the service on each system.
const (
	agentUnit        = "sbctl-agent.service"
	agentLaunchLabel = "com.github.sbctl.agent"
	agentTaskName    = "sbctl-agent"
)

// serviceEnv are the variables a service gets from the installing shell:
// they choose which profiles and which keychain it works on and hold no
// secret. Secrets (SBCTL_DATABASE_URL, SBCTL_TEAM_KEY, client secrets)
// are never written into a service definition: docs/automation.md says
// where they go.
var serviceEnv = []string{"SBCTL_KEYRING_SERVICE", "SBCTL_KEYRING_TIMEOUT"}

// secretEnv are the variables install tells the user to provide to the
// service by hand.
var secretEnv = []string{envDatabaseURL, envTeamKey}

// agentService is one system's service definition for the agent.
type agentService struct {
	OS   string
	Path string // where the definition file goes
	Text []byte // what is written there
	// Printable is Text as shown by --print (the Windows task file is
	// UTF-16 on disk).
	Printable string
	// Enable, Disable and Status are the service manager's commands.
	Enable, Disable [][]string
	Status          []string
	// Manager is the program Enable needs ("systemctl", "launchctl",
	// "schtasks").
	Manager string
}

type agentInstallOptions struct {
	IO    *IOStreams
	Print bool
	OS    string
	Flags agentFlags
	// Args are the agent's command line in the service: the flags given
	// to install (filled by RunE).
	Args []string
	// Env are the serviceEnv values to pass on.
	Env map[string]string
	// Executable is the absolute path of this sbctl (os.Executable).
	Executable string
	// LookPath and Run reach the service manager (tests replace them).
	LookPath func(string) (string, error)
	Run      func(ctx context.Context, argv []string) ([]byte, error)
}

func runCommand(ctx context.Context, argv []string) ([]byte, error) {
	c := exec.CommandContext(ctx, argv[0], argv[1:]...)
	return c.CombinedOutput()
}

func newAgentInstallCmd(f *Factory, runF func(*agentInstallOptions) error) *cobra.Command {
	o := &agentInstallOptions{IO: f.IO, Flags: defaultAgentFlags(), LookPath: exec.LookPath, Run: runCommand}
	c := &cobra.Command{
		Use:   "install [--print] [agent flags]",
		Short: "Run the agent as a service of your session (systemd, launchd, Task Scheduler)",
		Long: `Write the agent's service definition and start it: a systemd user unit
(~/.config/systemd/user/sbctl-agent.service, enabled with systemctl --user
enable --now) on Linux, a launchd agent (~/Library/LaunchAgents) on macOS,
a Task Scheduler task run at logon on Windows. The service runs this sbctl
(its absolute path) with the agent flags given here, restarts it when it
fails, and runs inside your session, so the keychain is reachable.

--print prints the definition and writes nothing (--os linux|darwin|windows
prints another system's). Secrets in the environment (SBCTL_DATABASE_URL,
SBCTL_TEAM_KEY) are never written into it: see docs/automation.md.`,
		Example: `  sbctl agent install --print
  sbctl agent install --metrics-addr 127.0.0.1:9464`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := o.Flags.check(); err != nil {
				return err
			}
			if o.OS == "" {
				o.OS = runtime.GOOS
			} else if !o.Print {
				return usageErr("--os is for --print: a service is installed for the system it runs on")
			}
			if err := knownServiceOS(o.OS); err != nil {
				return err
			}
			exe, err := os.Executable()
			if err == nil {
				exe, err = filepath.EvalSymlinks(exe)
			}
			if err != nil {
				return fmt.Errorf("finding this sbctl's own path: %w", err)
			}
			o.Executable = exe
			o.Args, err = serviceArgs(c, f)
			if err != nil {
				return err
			}
			o.Env = map[string]string{}
			for _, k := range serviceEnv {
				if v := os.Getenv(k); v != "" {
					o.Env[k] = v
				}
			}
			return runWith(c.Context(), o, runF, runAgentInstall)
		},
	}
	c.Flags().BoolVar(&o.Print, "print", false, "print the service definition; write and start nothing")
	c.Flags().StringVar(&o.OS, "os", "", "with --print: the system to print it for (linux, darwin, windows)")
	addAgentFlags(c.Flags(), &o.Flags)
	return c
}

// serviceArgs is the agent's command line in the service: the global
// flags that choose the config and token store (also when the environment
// chose them: a service does not inherit this shell), then the agent flags
// given to install, in a fixed order.
func serviceArgs(c *cobra.Command, f *Factory) ([]string, error) {
	var args []string
	if f.configNamedBy != "" {
		p, err := filepath.Abs(f.ConfigPath)
		if err != nil {
			return nil, err
		}
		args = append(args, "--config", p)
	}
	store := f.TokenStore
	if store == "" {
		store = os.Getenv(envTokenStore)
	}
	if store != "" {
		args = append(args, "--token-store", store)
	}
	args = append(args, "agent")
	for _, name := range agentFlagNames {
		fl := c.Flags().Lookup(name)
		if fl == nil || !fl.Changed {
			continue
		}
		v := fl.Value.String()
		if v == "" {
			v = "0" // a duration of 0 (off) prints as ""
		}
		args = append(args, "--"+name, v)
	}
	return args, nil
}

func runAgentInstall(ctx context.Context, o *agentInstallOptions) error {
	home, err := os.UserHomeDir()
	if err != nil {
		return fmt.Errorf("finding your home directory: %w", err)
	}
	svc, err := serviceFor(o.OS, home, append([]string{o.Executable}, o.Args...), o.Env)
	if err != nil {
		return err
	}
	if o.Print {
		fmt.Fprint(o.IO.Out, svc.Printable)
		fmt.Fprintf(o.IO.ErrOut, "sbctl agent install would write %s and run:\n", svc.Path)
		for _, argv := range svc.Enable {
			fmt.Fprintf(o.IO.ErrOut, "  %s\n", strings.Join(argv, " "))
		}
		return nil
	}
	if err := writeServiceFile(svc.Path, svc.Text); err != nil {
		return err
	}
	fmt.Fprintf(o.IO.ErrOut, "Wrote %s.\n", svc.Path)
	noteSecretEnv(o.IO)
	if _, err := o.LookPath(svc.Manager); err != nil {
		fmt.Fprintf(o.IO.ErrOut, "%s is not available here, so nothing was started. Start the agent with your service manager, or run `sbctl agent` in the foreground:\n", svc.Manager)
		for _, argv := range svc.Enable {
			fmt.Fprintf(o.IO.ErrOut, "  %s\n", strings.Join(argv, " "))
		}
		return nil
	}
	for _, argv := range svc.Enable {
		if out, err := o.Run(ctx, argv); err != nil {
			return fmt.Errorf("`%s` failed (%v): %s; the service file stays in place", strings.Join(argv, " "), err, oneLine(string(out)))
		}
	}
	fmt.Fprintf(o.IO.ErrOut, "The agent runs now and at every login. Check it with `sbctl agent status`.\n")
	return nil
}

// noteSecretEnv says which secrets of this shell the service will not see.
func noteSecretEnv(ios *IOStreams) {
	var set []string
	for _, k := range secretEnv {
		if os.Getenv(k) != "" {
			set = append(set, k)
		}
	}
	if len(set) > 0 {
		fmt.Fprintf(ios.ErrOut, "Note: %s is set in this shell but not written into the service (a secret); give it to the service as docs/automation.md shows.\n", strings.Join(set, " and "))
	}
}

// writeServiceFile writes the definition (0644 like the files a service
// manager installs; it holds no secret) through a temporary file.
func writeServiceFile(path string, text []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, text, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// knownServiceOS refuses a system install knows no service manager of.
func knownServiceOS(goos string) error {
	switch goos {
	case "linux", "freebsd", "openbsd", "netbsd", "darwin", "windows":
		return nil
	}
	return usageErr("--os %q: sbctl agent install knows linux (systemd), darwin (launchd) and windows (Task Scheduler)", goos)
}

// serviceFor builds the service definition of goos for the command line
// argv (argv[0] an absolute path, argv not empty) with env; home is the
// user's home.
func serviceFor(goos, home string, argv []string, env map[string]string) (agentService, error) {
	if err := knownServiceOS(goos); err != nil {
		return agentService{}, err
	}
	switch goos {
	case "darwin":
		return launchdService(home, argv, env), nil
	case "windows":
		return windowsTask(home, argv, env), nil
	}
	return systemdService(home, argv, env), nil
}

// systemdUserDir is where systemd looks for a user's own units.
func systemdUserDir(home string) string {
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "systemd", "user")
	}
	return filepath.Join(home, ".config", "systemd", "user")
}

func systemdService(home string, argv []string, env map[string]string) agentService {
	var b strings.Builder
	b.WriteString("# Written by `sbctl agent install`; `sbctl agent uninstall` removes it.\n")
	b.WriteString("[Unit]\nDescription=sbctl agent: keeps the connected profiles authenticated\n")
	b.WriteString("Documentation=https://github.com/sbctl/sbctl/blob/main/docs/automation.md\n\n")
	b.WriteString("[Service]\nType=exec\n")
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = systemdQuote(a)
	}
	b.WriteString("ExecStart=" + strings.Join(quoted, " ") + "\n")
	// Secrets for the agent (a team database URL, the team key) go in
	// this optional file (0600), never in the unit.
	b.WriteString("EnvironmentFile=-%h/.config/sbctl/agent.env\n")
	for _, k := range sortedKeys(env) {
		b.WriteString("Environment=" + systemdQuote(k+"="+env[k]) + "\n")
	}
	b.WriteString("Restart=on-failure\nRestartSec=30s\n")
	// SIGTERM lets renewals in flight store their tokens (GracePeriod).
	fmt.Fprintf(&b, "TimeoutStopSec=%ds\n", int((profiles.GracePeriod + 20*time.Second).Seconds()))
	b.WriteString("\n[Install]\nWantedBy=default.target\n")
	text := b.String()
	return agentService{
		OS: "linux", Path: filepath.Join(systemdUserDir(home), agentUnit), Text: []byte(text), Printable: text,
		Manager: "systemctl",
		Enable:  [][]string{{"systemctl", "--user", "daemon-reload"}, {"systemctl", "--user", "enable", "--now", agentUnit}},
		Disable: [][]string{{"systemctl", "--user", "disable", "--now", agentUnit}, {"systemctl", "--user", "daemon-reload"}},
		Status:  []string{"systemctl", "--user", "is-active", agentUnit},
	}
}

// systemdQuote quotes one word of an ExecStart= or Environment= line:
// specifiers (%) and variables ($) are escaped, and a word with spaces,
// quotes or backslashes is double-quoted with C escapes.
func systemdQuote(s string) string {
	s = strings.NewReplacer("%", "%%", "$", "$$").Replace(s)
	if s != "" && !strings.ContainsAny(s, " \t\"'\\;") {
		return s
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func launchdService(home string, argv []string, env map[string]string) agentService {
	esc := func(s string) string {
		var b bytes.Buffer
		_ = xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- Written by sbctl agent install; sbctl agent uninstall removes it. -->
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + agentLaunchLabel + `</string>
	<key>ProgramArguments</key>
	<array>
`)
	for _, a := range argv {
		b.WriteString("\t\t<string>" + esc(a) + "</string>\n")
	}
	b.WriteString("\t</array>\n")
	if len(env) > 0 {
		b.WriteString("\t<key>EnvironmentVariables</key>\n\t<dict>\n")
		for _, k := range sortedKeys(env) {
			b.WriteString("\t\t<key>" + esc(k) + "</key>\n\t\t<string>" + esc(env[k]) + "</string>\n")
		}
		b.WriteString("\t</dict>\n")
	}
	logPath := filepath.Join(home, "Library", "Logs", "sbctl-agent.log")
	b.WriteString(`	<key>RunAtLoad</key>
	<true/>
	<key>KeepAlive</key>
	<dict>
		<key>SuccessfulExit</key>
		<false/>
	</dict>
	<key>ThrottleInterval</key>
	<integer>30</integer>
	<key>ExitTimeOut</key>
	<integer>30</integer>
	<key>ProcessType</key>
	<string>Background</string>
	<key>StandardErrorPath</key>
	<string>` + esc(logPath) + `</string>
</dict>
</plist>
`)
	path := filepath.Join(home, "Library", "LaunchAgents", agentLaunchLabel+".plist")
	domain := "gui/" + uidString()
	text := b.String()
	return agentService{
		OS: "darwin", Path: path, Text: []byte(text), Printable: text, Manager: "launchctl",
		Enable:  [][]string{{"launchctl", "bootstrap", domain, path}},
		Disable: [][]string{{"launchctl", "bootout", domain + "/" + agentLaunchLabel}},
		Status:  []string{"launchctl", "print", domain + "/" + agentLaunchLabel},
	}
}

func uidString() string {
	if u, err := user.Current(); err == nil {
		return u.Uid
	}
	return fmt.Sprint(os.Getuid())
}

func windowsTask(home string, argv []string, env map[string]string) agentService {
	esc := func(s string) string {
		var b bytes.Buffer
		_ = xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	args := make([]string, 0, len(argv)-1)
	for _, a := range argv[1:] {
		args = append(args, windowsQuote(a))
	}
	who := ""
	if u, err := user.Current(); err == nil {
		who = "\n      <UserId>" + esc(u.Username) + "</UserId>"
	}
	text := `<?xml version="1.0" encoding="UTF-16"?>
<!-- Written by sbctl agent install; sbctl agent uninstall removes the task. -->
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>sbctl agent: keeps the connected profiles authenticated</Description>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <Enabled>true</Enabled>` + who + `
    </LogonTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <StartWhenAvailable>true</StartWhenAvailable>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>999</Count>
    </RestartOnFailure>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>` + esc(argv[0]) + `</Command>
      <Arguments>` + esc(strings.Join(args, " ")) + `</Arguments>
    </Exec>
  </Actions>
</Task>
`
	_ = env // a scheduled task has no environment of its own: the user's applies
	dir := os.Getenv("LOCALAPPDATA")
	if dir == "" {
		dir = filepath.Join(home, "AppData", "Local")
	}
	path := filepath.Join(dir, "sbctl", agentTaskName+".xml")
	return agentService{
		OS: "windows", Path: path, Text: utf16File(text), Printable: text, Manager: "schtasks",
		Enable: [][]string{{"schtasks", "/Create", "/TN", agentTaskName, "/XML", path, "/F"}, {"schtasks", "/Run", "/TN", agentTaskName}},
		// /End stops a running agent first; the deletion is what counts.
		Disable: [][]string{{"schtasks", "/End", "/TN", agentTaskName}, {"schtasks", "/Delete", "/TN", agentTaskName, "/F"}},
		Status:  []string{"schtasks", "/Query", "/TN", agentTaskName, "/FO", "LIST"},
	}
}

// utf16File is text as Task Scheduler reads a task file: UTF-16LE with a
// byte-order mark and CRLF line ends.
func utf16File(text string) []byte {
	u := utf16.Encode([]rune("\ufeff" + strings.ReplaceAll(text, "\n", "\r\n")))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		b[2*i], b[2*i+1] = byte(c), byte(c>>8)
	}
	return b
}

// windowsQuote quotes one argument as CommandLineToArgvW reads it.
func windowsQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"") {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	slashes := 0
	for _, c := range s {
		switch c {
		case '\\':
			slashes++
		case '"':
			b.WriteString(strings.Repeat(`\`, 2*slashes+1))
			b.WriteRune(c)
			slashes = 0
			continue
		default:
			slashes = 0
		}
		if c != '\\' {
			b.WriteRune(c)
		} else {
			b.WriteByte('\\')
		}
	}
	b.WriteString(strings.Repeat(`\`, slashes))
	b.WriteByte('"')
	return b.String()
}

type agentUninstallOptions struct {
	IO       *IOStreams
	LookPath func(string) (string, error)
	Run      func(ctx context.Context, argv []string) ([]byte, error)
}

func newAgentUninstallCmd(f *Factory, runF func(*agentUninstallOptions) error) *cobra.Command {
	o := &agentUninstallOptions{IO: f.IO, LookPath: exec.LookPath, Run: runCommand}
	return &cobra.Command{
		Use:   "uninstall",
		Short: "Stop the agent's service and remove it",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runWith(c.Context(), o, runF, runAgentUninstall)
		},
	}
}

func runAgentUninstall(ctx context.Context, o *agentUninstallOptions) error {
	home, err := os.UserHomeDir()
	if err != nil {
		return fmt.Errorf("finding your home directory: %w", err)
	}
	svc, _ := serviceFor(runtime.GOOS, home, []string{"sbctl"}, nil)
	if _, err := os.Stat(svc.Path); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(o.IO.ErrOut, "The agent is not installed (no %s); nothing to do.\n", svc.Path)
		return nil
	}
	if _, err := o.LookPath(svc.Manager); err == nil {
		for i, argv := range svc.Disable {
			out, err := o.Run(ctx, argv)
			// Stopping what does not run is no failure; the last command
			// (the removal or reload) must work.
			if err != nil && i == len(svc.Disable)-1 {
				return fmt.Errorf("`%s` failed (%v): %s; %s is kept", strings.Join(argv, " "), err, oneLine(string(out)), svc.Path)
			}
		}
	} else {
		fmt.Fprintf(o.IO.ErrOut, "%s is not available here: stop a running agent yourself.\n", svc.Manager)
	}
	if err := os.Remove(svc.Path); err != nil {
		return fmt.Errorf("removing %s: %w", svc.Path, err)
	}
	fmt.Fprintf(o.IO.ErrOut, "Removed %s; the agent no longer runs as a service.\n", svc.Path)
	return nil
}

type agentStatusOptions struct {
	IO       *IOStreams
	Format   string
	StateDir string
	LookPath func(string) (string, error)
	Run      func(ctx context.Context, argv []string) ([]byte, error)
}

func newAgentStatusCmd(f *Factory, runF func(*agentStatusOptions) error) *cobra.Command {
	o := &agentStatusOptions{IO: f.IO, LookPath: exec.LookPath, Run: runCommand}
	c := &cobra.Command{
		Use:   "status [-o json]",
		Short: "Say whether the agent runs, and what its last pass did",
		Long: `Say whether the agent's service is installed and running, and what the
last agent on this machine reported: when its last pass ran, when the next
is due, what it renewed. Exit 0 while an agent runs, 1 otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if o.Format != "" && o.Format != formatJSON {
				return usageErr("agent status prints only json (-o json)")
			}
			o.StateDir = stateDir()
			return runWith(c.Context(), o, runF, runAgentStatus)
		},
	}
	c.Flags().StringVarP(&o.Format, "output", "o", "", "json: print the status as JSON")
	return c
}

// agentStatusReport is `sbctl agent status -o json`.
type agentStatusReport struct {
	Installed bool   `json:"installed"`
	Service   string `json:"service_file"`
	// State is the service manager's word ("active", "inactive"…), ""
	// when it could not be asked.
	State   string                `json:"service_state"`
	Running bool                  `json:"running"`
	Agent   *profiles.AgentStatus `json:"agent"`
}

func runAgentStatus(ctx context.Context, o *agentStatusOptions) error {
	var rep agentStatusReport
	// Without a home (a container's user) there is no service of ours to
	// look for; the agent's own status file still answers.
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		svc, _ := serviceFor(runtime.GOOS, home, []string{"sbctl"}, nil)
		rep.Service = svc.Path
		if _, err := os.Stat(svc.Path); err == nil {
			rep.Installed = true
		}
		if _, err := o.LookPath(svc.Manager); err == nil && rep.Installed {
			out, _ := o.Run(ctx, svc.Status)
			rep.State = serviceState(svc.OS, string(out))
		}
	}
	var err error
	rep.Agent, err = profiles.ReadAgentStatus(o.StateDir)
	if err != nil {
		return err
	}
	now := o.IO.Now()
	rep.Running = rep.State == "active" || rep.State == "running" || heartbeatFresh(rep.Agent, now)
	if o.Format == formatJSON {
		if _, err := printData(o.IO.Out, formatJSON, rep); err != nil {
			return err
		}
	} else {
		printAgentStatus(o.IO, rep, now)
	}
	if !rep.Running {
		return withCode(ExitError, nil)
	}
	return nil
}

// serviceState reads the service manager's answer: systemctl is-active
// prints one word; launchctl print has "state = running"; schtasks
// "Status: Running".
func serviceState(goos, out string) string {
	switch goos {
	case "darwin":
		for _, l := range strings.Split(out, "\n") {
			if k, v, ok := strings.Cut(strings.TrimSpace(l), "="); ok && strings.TrimSpace(k) == "state" {
				return strings.TrimSpace(v)
			}
		}
		return ""
	case "windows":
		for _, l := range strings.Split(out, "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "Status" {
				return strings.ToLower(strings.TrimSpace(v))
			}
		}
		return ""
	}
	return strings.TrimSpace(out)
}

// heartbeatFresh: the agent's status file says it runs (not stopped, its
// next pass not long overdue).
func heartbeatFresh(st *profiles.AgentStatus, now time.Time) bool {
	return st != nil && st.StoppedAt == nil && !st.NextPassAt.IsZero() && now.Before(st.NextPassAt.Add(2*profiles.AgentMaxWait))
}

func printAgentStatus(ios *IOStreams, rep agentStatusReport, now time.Time) {
	w := ios.Out
	switch {
	case !rep.Installed:
		fmt.Fprintf(w, "Service:   not installed (sbctl agent install)\n")
	case rep.State != "":
		fmt.Fprintf(w, "Service:   %s (%s)\n", rep.State, rep.Service)
	default:
		fmt.Fprintf(w, "Service:   installed (%s)\n", rep.Service)
	}
	a := rep.Agent
	if a == nil {
		fmt.Fprintln(w, "Agent:     no agent has run on this machine")
		return
	}
	when := func(t time.Time) string { return profiles.WhenLong(&t, now, "-") }
	state := "running"
	switch {
	case a.StoppedAt != nil && a.Once:
		state = "ran once (--once), " + when(*a.StoppedAt)
	case a.StoppedAt != nil:
		state = "stopped " + when(*a.StoppedAt)
	case !heartbeatFresh(a, now):
		state = fmt.Sprintf("not running? (pid %d on %s; its next pass was due %s)", a.PID, a.Host, when(a.NextPassAt))
	case a.Standby:
		state = fmt.Sprintf("standing by (pid %d on %s): another agent is active for the team", a.PID, a.Host)
	default:
		state = fmt.Sprintf("running (pid %d on %s), since %s", a.PID, a.Host, when(a.StartedAt))
	}
	fmt.Fprintf(w, "Agent:     %s\n", state)
	fmt.Fprintf(w, "Last pass: %s: %d profiles, %d renewed, %d failed, %d verified\n", when(a.LastPassAt), a.Profiles, a.Renewed, a.Failed, a.Verified)
	if a.StoppedAt == nil && !a.NextPassAt.IsZero() {
		fmt.Fprintf(w, "Next pass: %s\n", when(a.NextPassAt))
	}
	if a.LastError != "" {
		fmt.Fprintf(w, "Problem:   %s\n", oneLine(a.LastError))
	}
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
