#!/usr/bin/env python3
"""Mutation check of SECURITY.md's claims (issue 9).

Each mutant flips one security check in the source, then runs the tests
that prove the claim; the mutant must make them fail ("killed"). The tree
is never changed: mutated copies go to a temp directory and `go test
-overlay` swaps them in. Run from the repository root:

    python3 .ci/mutate.py            # every mutant
    python3 .ci/mutate.py 29 31      # those of SECURITY items 29 and 31

It prints one line per mutant and the score; exit 1 if any survives. It is
slow (one `go test` per mutant), so CI does not run it.
"""
import json
import os
import subprocess
import sys
import tempfile

# (SECURITY item, file, text to replace, replacement, package, test regexp)
MUTANTS = [
    ("10", "profiles/reauth.go", "RequireIss:    ep.IssParameterSupported && ep.Issuer != \"\",",
     "RequireIss:    false,", "./profiles/", "TestSecurity10"),
    ("11", "profiles/reauth.go", "\ttok, err := prov.Exchange(ctx, ar.Code, ar.CodeVerifier, ar.RedirectURI)\n",
     "\ttok, err := prov.Exchange(ctx, ar.Code, ar.CodeVerifier, ar.RedirectURI)\n\tif err != nil {\n\t\ttok, err = prov.Exchange(ctx, ar.Code, ar.CodeVerifier, ar.RedirectURI)\n\t}\n",
     "./profiles/", "TestSecurity11"),
    ("16", "profiles/add.go", "\tif err := store.PutToken(ctx, st, s.Name, t); err != nil {\n",
     "\tif err := store.PutToken(ctx, st, s.Name, t); err != nil {\n\t\tst = store.NewFile(m.opts.Tokens.FileDir, nil)\n\t\terr = store.PutToken(ctx, st, s.Name, t)\n\t}\n\tif err != nil {\n",
     "./cmd/", "TestScripts/security16"),
    ("24", "auth/fsx/write.go", "\ttmp, _, err := WriteTemp(dir, TempPrefix(path), data, mode)\n",
     "\tif true {\n\t\treturn os.WriteFile(path, data, mode)\n\t}\n\ttmp, _, err := WriteTemp(dir, TempPrefix(path), data, mode)\n",
     "./profiles/", "TestSecurity24"),
    ("28", "auth/provider/provider.go", "\tpath := strings.TrimSuffix(base, \"/\") + \"/\" + url.PathEscape(name)\n",
     "\tpath := strings.TrimSuffix(base, \"/\")\n", "./profiles/", "TestSecurity28"),
    ("27", "auth/provider/transport.go", "\tif carriesNoSecret(r) || !isRedirect(resp.StatusCode) {",
     "\tif true || carriesNoSecret(r) || !isRedirect(resp.StatusCode) {", "./auth/provider/", "TestSecurity27"),
    ("27", "auth/provider/transport.go", "\tr.Header.Del(\"Referer\")\n", "", "./auth/provider/", "TestSecurity27"),
    ("29", "auth/flow/device.go", "\t\tif auth.CheckTokenText(f.name, f.value) != nil {",
     "\t\tif false && auth.CheckTokenText(f.name, f.value) != nil {", "./auth/flow/", "TestSecurity29"),
    ("32", "auth/flow/env.go", "\t\tif name != \"\" && SecretEnv(name) {", "\t\tif name != \"\" && SecretEnv(name) && false {", "./auth/flow/", "TestSecurity32"),
    ("29", "auth/store/store.go", "\tif err := auth.CheckTokenText(\"the access token for profile \"+strconv.Quote(profile), t.AccessToken); err != nil {\n\t\treturn err\n\t}\n",
     "", "./auth/store/", "TestSecurity29"),
    ("29", "auth/store/store.go", "\tif err := auth.CheckTokenText(\"the refresh token for profile \"+strconv.Quote(profile), t.RefreshToken); err != nil {\n\t\treturn err\n\t}\n",
     "", "./auth/store/", "TestSecurity29"),
    ("30", "profiles/view.go", "\t\tif c := auth.CleanText(s, 200); c == s && c != \"\" {",
     "\t\tif c := auth.CleanText(s, 200); c != \"\" {", "./profiles/", "TestSecurity30"),
    ("30", "profiles/providers.go", "func cleanText(s string) string { return auth.CleanText(s, 100) }",
     "func cleanText(s string) string { return s }", "./profiles/", "TestSecurity30"),
    ("31", "auth/fsx/dir.go", "\tif perm := st.Mode().Perm(); perm&0o022 != 0 {",
     "\tif perm := st.Mode().Perm(); perm&0o002 != 0 && false {", "./profiles/", "TestSecurity31"),
    ("31", "auth/fsx/dir.go", "\tf, err := os.OpenFile(path, os.O_RDONLY|NoFollow|NonBlock, 0)",
     "\tf, err := os.OpenFile(path, os.O_RDONLY|NonBlock, 0)", "./profiles/", "TestSecurity31"),
    ("31", "auth/fsx/dir.go", "\t\tif IsLinkErr(err) {\n\t\t\treturn d.linkError(path)",
     "\t\tif false {\n\t\t\treturn d.linkError(path)", "./profiles/", "TestSecurity31"),
    ("31", "auth/fsx/lock.go", "flock.SetFlag(os.O_CREATE|os.O_RDWR|lockFlags)",
     "flock.SetFlag(os.O_CREATE|os.O_RDWR)", "./profiles/", "TestSecurity31"),
]


def run(mutant, tmp):
    item, path, old, new, pkg, tests = mutant
    src = open(path, encoding="utf-8").read()
    if src.count(old) != 1:
        return "stale (the text to mutate is not found exactly once: update the mutant)"
    mutated = os.path.join(tmp, path.replace("/", "_"))
    with open(mutated, "w", encoding="utf-8") as f:
        f.write(src.replace(old, new))
    overlay = os.path.join(tmp, "overlay.json")
    with open(overlay, "w") as f:
        json.dump({"Replace": {os.path.abspath(path): mutated}}, f)
    r = subprocess.run(["go", "test", "-count=1", "-overlay", overlay, "-run", tests, pkg],
                       capture_output=True, text=True)
    if r.returncode == 0:
        return "SURVIVED"
    if "[build failed]" in r.stdout or "setup failed" in r.stdout:
        return "build failed (a broken mutant proves nothing: fix it)\n" + r.stdout[-400:]
    return "killed"


def main():
    wanted = set(sys.argv[1:])
    chosen = [m for m in MUTANTS if not wanted or m[0] in wanted]
    killed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for m in chosen:
            verdict = run(m, tmp)
            killed += verdict == "killed"
            print(f"SECURITY {m[0]:>2}  {m[1]:<28} {m[5]:<24} {verdict}")
    print(f"{killed} of {len(chosen)} mutants killed")
    return 0 if killed == len(chosen) else 1


if __name__ == "__main__":
    sys.exit(main())
