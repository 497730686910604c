package deploy

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"mcplambda/test/moto"
	"mcplambda/test/testproc"
)

func scripts(t *testing.T, root string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "scripts", "*.sh"))
	if err != nil || len(files) < 10 {
		t.Fatalf("scripts/*.sh: %v (%d files)", err, len(files))
	}
	return files
}

func TestShellcheck(t *testing.T) {
	if _, err := exec.LookPath("shellcheck"); err != nil {
		if moto.Required() {
			t.Fatal("shellcheck is required (MCP_REQUIRE_MOTO=1) but not on PATH")
		}
		t.Skip("shellcheck not on PATH")
	}
	root := testproc.RepoRoot(t)
	cmd := exec.Command("shellcheck", append([]string{"-x", "--severity=style"}, scripts(t, root)...)...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("shellcheck: %v\n%s", err, out)
	}
}

// TestScriptsShape: every step is an executable bash script that starts
// from lib.sh, which turns on strict mode; and no pool, client or account id
// is baked into any of them.
func TestScriptsShape(t *testing.T) {
	root := testproc.RepoRoot(t)
	lib, err := os.ReadFile(filepath.Join(root, "scripts", "lib.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^set -euo pipefail$`).Match(lib) {
		t.Error("lib.sh does not set -euo pipefail")
	}
	baked := regexp.MustCompile(`[a-z]{2}-[a-z]+-\d_[0-9A-Za-z]{9,}|\b\d{12}\b`)
	for _, path := range scripts(t, root) {
		name := filepath.Base(path)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if m := baked.Find(data); m != nil {
			t.Errorf("%s contains what looks like a baked-in id: %s", name, m)
		}
		if name == "lib.sh" {
			continue
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o111 == 0 {
			t.Errorf("%s is not executable", name)
		}
		sc := bufio.NewScanner(strings.NewReader(string(data)))
		sc.Scan()
		if sc.Text() != "#!/usr/bin/env bash" {
			t.Errorf("%s: first line %q", name, sc.Text())
		}
		// The first command is sourcing lib.sh: nothing runs before strict mode.
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if line != `source "$(dirname "$0")/lib.sh"` {
				t.Errorf("%s: first command is %q, not sourcing lib.sh", name, line)
			}
			break
		}
	}
}

// bashLib sources lib.sh with the given environment and prints variables.
func bashLib(t *testing.T, root string, env []string, vars ...string) (map[string]string, string, error) {
	t.Helper()
	var script strings.Builder
	script.WriteString("source scripts/lib.sh\n")
	for _, v := range vars {
		script.WriteString(`printf '%s=%s\n' ` + v + ` "$` + v + `"` + "\n")
	}
	cmd := exec.Command("bash", "-c", script.String())
	cmd.Dir = root
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	got := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			got[k] = v
		}
	}
	return got, string(out), err
}

// TestConfigPrecedence: the environment wins over deploy.env, which wins
// over the defaults; deploy.env is read without evaluating anything.
func TestConfigPrecedence(t *testing.T) {
	root := testproc.RepoRoot(t)
	dir := t.TempDir()
	marker := filepath.Join(dir, "evaluated")
	envFile := filepath.Join(dir, "deploy.env")
	content := strings.Join([]string{
		"# comment",
		"MEMORY_SIZE=1024   # trailing comment",
		"TIMEOUT=120",
		`API_NAME="from-file"`,
		"export STAGE='beta'",
		"FUNCTION_NAME=$(touch " + marker + ")",
		"ARCH=arm64",
		"",
	}, "\n")
	if err := os.WriteFile(envFile, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "DEPLOY_DIR=" + filepath.Join(dir, "d"), "DEPLOY_ENV_FILE=" + envFile}
	got, out, err := bashLib(t, root, append(base, "TIMEOUT=60"),
		"MEMORY_SIZE", "TIMEOUT", "API_NAME", "STAGE", "FUNCTION_NAME", "ARCH", "GOARCH", "AWS_REGION", "AWS_DEFAULT_REGION", "SESSION_TABLE", "AUTHORIZER_RESULT_TTL")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := map[string]string{
		"MEMORY_SIZE": "1024", "TIMEOUT": "60", "API_NAME": "from-file", "STAGE": "beta",
		"FUNCTION_NAME": "$(touch " + marker + ")", "ARCH": "arm64", "GOARCH": "arm64",
		"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "SESSION_TABLE": "mcp-sessions", "AUTHORIZER_RESULT_TTL": "300",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("deploy.env was evaluated as shell")
	}
	st, err := os.Stat(filepath.Join(dir, "d"))
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("DEPLOY_DIR not created private: %v %v", st, err)
	}
}

// TestRefusesBadSettings: invalid settings stop a deploy before any AWS call.
func TestRefusesBadSettings(t *testing.T) {
	root := testproc.RepoRoot(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	calls := filepath.Join(dir, "calls")
	if err := os.WriteFile(filepath.Join(bin, "aws"), []byte("#!/bin/sh\necho \"$@\" >>"+calls+"\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	base := []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "HOME=" + dir, "DEPLOY_DIR=" + filepath.Join(dir, "d"),
		"DEPLOY_ENV_FILE=" + filepath.Join(dir, "none")}
	cases := []struct {
		name string
		env  []string
		want string
	}{
		{"no AUTH", nil, "set AUTH=oauth or AUTH=lambda"},
		{"unknown AUTH", []string{"AUTH=none"}, "set AUTH=oauth or AUTH=lambda"},
		{"bad ARCH", []string{"AUTH=oauth", "ARCH=sparc"}, "ARCH must be x86_64 or arm64"},
		{"bad TIMEOUT", []string{"AUTH=oauth", "TIMEOUT=901"}, "TIMEOUT must be 1..900"},
		{"bad TTL", []string{"AUTH=lambda", "AUTHORIZER_RESULT_TTL=-1"}, "AUTHORIZER_RESULT_TTL must be"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command("scripts/deploy.sh")
			cmd.Dir = root
			cmd.Env = append(append([]string{}, base...), c.env...)
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), c.want) {
				t.Errorf("deploy.sh: err %v, output %q; want a failure saying %q", err, out, c.want)
			}
		})
	}
	if data, err := os.ReadFile(calls); err == nil {
		t.Errorf("AWS called despite invalid settings:\n%s", data)
	}
	if _, err := exec.LookPath("make"); err == nil {
		cmd := exec.Command("make", "--no-print-directory", "-f", "deploy.mk", "deploy")
		cmd.Dir = root
		cmd.Env = base
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "usage: make deploy AUTH=oauth|lambda") {
			t.Errorf("make deploy without AUTH: err %v, output %q", err, out)
		}
	}
}

// TestDockerfile checks what cannot be built here (no Docker daemon): the
// stages, their pinned bases, the static cross-compiled Lambda build.
func TestDockerfile(t *testing.T) {
	root := testproc.RepoRoot(t)
	data, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	// Join continuation lines, drop comments.
	text := regexp.MustCompile(`\\\n\s*`).ReplaceAllString(string(data), "")
	var froms, runs, copies, args []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instr, rest, _ := strings.Cut(line, " ")
		switch strings.ToUpper(instr) {
		case "FROM":
			froms = append(froms, rest)
		case "RUN":
			runs = append(runs, rest)
		case "COPY":
			copies = append(copies, rest)
		case "ARG":
			args = append(args, rest)
		}
	}
	if len(froms) != 2 {
		t.Fatalf("FROM lines %q, want a build stage and a runtime stage", froms)
	}
	if !regexp.MustCompile(`^--platform=\$BUILDPLATFORM golang:1\.26 AS build$`).MatchString(froms[0]) {
		t.Errorf("build stage %q, want golang:1.26 on the build platform", froms[0])
	}
	if froms[1] != "public.ecr.aws/lambda/provided:al2023" {
		t.Errorf("runtime stage %q, want public.ecr.aws/lambda/provided:al2023", froms[1])
	}
	if !strings.Contains(strings.Join(args, "\n"), "TARGETARCH") {
		t.Error("no ARG TARGETARCH")
	}
	var build string
	for _, r := range runs {
		if strings.Contains(r, "go build") {
			build = r
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=$TARGETARCH", "-trimpath", "-tags lambda.norpc", `-s -w`, "./cmd/mcp-server"} {
		if !strings.Contains(build, want) {
			t.Errorf("go build line lacks %q: %s", want, build)
		}
	}
	if !slicesContainsPrefix(copies, "--from=build ") || !strings.Contains(strings.Join(copies, "\n"), "/var/runtime/bootstrap") {
		t.Errorf("the binary is not copied to /var/runtime/bootstrap: %q", copies)
	}
	// The build context must keep what the build reads.
	ignore, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(ignore), "\n") {
		line = strings.TrimSpace(line)
		for _, needed := range []string{"go.mod", "go.sum", "cmd", "server", "mcp", "oauth", "bedrock", "lambdahttp", "internal", "greetings"} {
			if line == needed || line == needed+"/" || line == "*" {
				t.Errorf(".dockerignore excludes %s", needed)
			}
		}
	}
}

func slicesContainsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}
