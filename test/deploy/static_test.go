package deploy

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
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
	// Reading the profile's region (aws configure get) is local, not a call.
	fake := "#!/bin/sh\n[ \"$1\" = configure ] && exit 1\necho \"$@\" >>" + calls + "\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "aws"), []byte(fake), 0o755); err != nil {
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
		{"TTL that would refuse fresh tokens", []string{"AUTH=oauth", "AUTHORIZER_RESULT_TTL=901"}, "AUTHORIZER_RESULT_TTL must be 0..900"},
		{"wildcard account", []string{"AUTH=oauth", "BEDROCK_ALLOWED_ACCOUNTS=*"}, "BEDROCK_ALLOWED_ACCOUNTS: '*' is not a 12-digit AWS account id"},
		{"short account", []string{"AUTH=oauth", "BEDROCK_ALLOWED_ACCOUNTS=111122223333,1234"}, "'1234' is not a 12-digit"},
		{"external id with a space", []string{"AUTH=oauth", "BEDROCK_EXTERNAL_ID=a b"}, "BEDROCK_EXTERNAL_ID must be"},
		{"role ARN instead of a name", []string{"AUTH=oauth", "BEDROCK_CROSS_ACCOUNT_ROLE=arn:aws:iam::*:role/R"}, "BEDROCK_CROSS_ACCOUNT_ROLE must be a role name"},
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
// stages, their pinned bases, the static cross-compiled Lambda builds, and
// that TARGETARCH has no default (a default overrides what buildx derives
// from --platform, and an arm64 image would get an x86-64 bootstrap).
func TestDockerfile(t *testing.T) {
	root := testproc.RepoRoot(t)
	data, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	stages := parseDockerfile(string(data))
	var names []string
	for _, st := range stages {
		names = append(names, st.name)
	}
	if want := []string{"source", "build", "authorizer-build", "authorizer", ""}; !slices.Equal(names, want) {
		t.Fatalf("stages %q, want %q (the server image last, as the default target)", names, want)
	}
	byName := map[string]stage{}
	for _, st := range stages {
		byName[st.name] = st
	}
	if got := byName["source"].from; got != "--platform=$BUILDPLATFORM golang:1.26" {
		t.Errorf("source stage FROM %q, want golang:1.26 on the build platform", got)
	}
	if got := stages[len(stages)-1].from; got != "public.ecr.aws/lambda/provided:al2023" {
		t.Errorf("runtime stage FROM %q, want public.ecr.aws/lambda/provided:al2023", got)
	}
	if got := byName["authorizer"].from; got != "scratch" {
		t.Errorf("authorizer stage FROM %q, want scratch (only the zip, for --output type=local)", got)
	}
	for _, st := range stages {
		for _, a := range st.args {
			if name, _, hasDefault := strings.Cut(a, "="); name == "TARGETARCH" && hasDefault {
				t.Errorf("stage %q: ARG %s has a default, which overrides the platform buildx sets", st.name, a)
			}
		}
	}
	for _, c := range []struct{ stage, pkg string }{{"build", "./cmd/mcp-server"}, {"authorizer-build", "./cmd/mcp-authorizer"}} {
		st := byName[c.stage]
		if !slices.Contains(st.args, "TARGETARCH") {
			t.Errorf("stage %s does not declare ARG TARGETARCH", c.stage)
		}
		var build string
		for _, r := range st.runs {
			if strings.Contains(r, "go build") {
				build = r
			}
		}
		for _, want := range []string{`test -n "$TARGETARCH"`, "CGO_ENABLED=0", "GOOS=linux", "GOARCH=$TARGETARCH", "-trimpath", "-tags lambda.norpc", `-s -w`, c.pkg} {
			if !strings.Contains(build, want) {
				t.Errorf("stage %s: go build line lacks %q: %s", c.stage, want, build)
			}
		}
	}
	if !strings.Contains(strings.Join(byName["authorizer-build"].runs, "\n"), "go run ./internal/cmd/lambdazip -o /out/authorizer.zip") {
		t.Error("the authorizer stage does not package bootstrap with internal/cmd/lambdazip")
	}
	if !slices.Contains(byName["authorizer"].copies, "--from=authorizer-build /out/authorizer.zip /authorizer.zip") {
		t.Errorf("authorizer stage copies %q", byName["authorizer"].copies)
	}
	if !slices.Contains(stages[len(stages)-1].copies, "--from=build /out/bootstrap /var/runtime/bootstrap") {
		t.Errorf("the binary is not copied to /var/runtime/bootstrap: %q", stages[len(stages)-1].copies)
	}
	// The build context must keep what the builds read.
	ignore, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(ignore), "\n") {
		line = strings.TrimSpace(line)
		for _, needed := range []string{"go.mod", "go.sum", "cmd", "server", "mcp", "oauth", "bedrock", "lambdahttp", "internal", "greetings", "authorizer", "client"} {
			if line == needed || line == needed+"/" || line == "*" {
				t.Errorf(".dockerignore excludes %s", needed)
			}
		}
	}
}

type stage struct {
	name, from         string
	args, runs, copies []string
}

// parseDockerfile splits a Dockerfile into stages, joining continuation
// lines and dropping comments.
func parseDockerfile(text string) []stage {
	text = regexp.MustCompile(`\\\n\s*`).ReplaceAllString(text, "")
	var out []stage
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instr, rest, _ := strings.Cut(line, " ")
		instr = strings.ToUpper(instr)
		if instr == "FROM" {
			st := stage{from: rest}
			if i := strings.Index(strings.ToUpper(rest), " AS "); i >= 0 {
				st.from, st.name = rest[:i], strings.TrimSpace(rest[i+4:])
			}
			out = append(out, st)
			continue
		}
		if len(out) == 0 {
			continue // ARG before the first FROM
		}
		st := &out[len(out)-1]
		switch instr {
		case "ARG":
			st.args = append(st.args, rest)
		case "RUN":
			st.runs = append(st.runs, rest)
		case "COPY":
			st.copies = append(st.copies, rest)
		}
	}
	return out
}

// TestRegionChain: AWS_REGION, then AWS_DEFAULT_REGION, then the AWS CLI
// profile's region, then us-east-1; REGION_SOURCE says which, for the outputs.
func TestRegionChain(t *testing.T) {
	tools(t, "aws")
	root := testproc.RepoRoot(t)
	dir := t.TempDir()
	config := filepath.Join(dir, "config")
	if err := os.WriteFile(config, []byte("[default]\nregion = eu-west-3\n\n[profile other]\nregion = ap-south-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "DEPLOY_DIR=" + filepath.Join(dir, "d"),
		"DEPLOY_ENV_FILE=" + filepath.Join(dir, "none"), "AWS_CONFIG_FILE=" + filepath.Join(dir, "no-config")}
	tests := []struct {
		name         string
		env          []string
		region, from string
	}{
		{"AWS_REGION first", []string{"AWS_REGION=eu-north-1", "AWS_DEFAULT_REGION=us-west-2", "AWS_CONFIG_FILE=" + config}, "eu-north-1", "AWS_REGION"},
		{"then AWS_DEFAULT_REGION", []string{"AWS_DEFAULT_REGION=us-west-2", "AWS_CONFIG_FILE=" + config}, "us-west-2", "AWS_DEFAULT_REGION"},
		{"then the profile", []string{"AWS_CONFIG_FILE=" + config}, "eu-west-3", "the AWS CLI profile"},
		{"a named profile", []string{"AWS_CONFIG_FILE=" + config, "AWS_PROFILE=other"}, "ap-south-1", "the AWS CLI profile other"},
		{"then us-east-1", nil, "us-east-1", "the default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, out, err := bashLib(t, root, append(slices.Clone(base), tt.env...), "AWS_REGION", "AWS_DEFAULT_REGION", "REGION_SOURCE")
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if got["AWS_REGION"] != tt.region || got["AWS_DEFAULT_REGION"] != tt.region || got["REGION_SOURCE"] != tt.from {
				t.Errorf("region %q (default %q) from %q, want %q from %q", got["AWS_REGION"], got["AWS_DEFAULT_REGION"], got["REGION_SOURCE"], tt.region, tt.from)
			}
		})
	}
}

// fakeCLI writes an aws command that knows only some deploy flags: it
// prints skeletons with just the given keys, names itself VERSION, and logs
// every other call (which must not happen: preflight comes first).
func fakeCLI(t *testing.T, dir, version string, keys ...string) (bin, calls string) {
	t.Helper()
	bin = filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	calls = filepath.Join(dir, "calls")
	skeleton := `{"restApiId": ""`
	for _, k := range keys {
		skeleton += `, "` + k + `": ""`
	}
	skeleton += "}"
	script := "#!/bin/sh\n" +
		"case \"$*\" in\n" +
		"--version) echo '" + version + "'; exit 0;;\n" +
		"*--generate-cli-skeleton*) echo '" + skeleton + "'; exit 0;;\n" +
		"configure*) exit 1;;\n" +
		"esac\n" +
		"echo \"$@\" >>" + calls + "\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "aws"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, calls
}

// TestPreflight: what would stop a deploy halfway stops it before anything
// is created: an AWS CLI without a flag deploy uses (with the minimum
// versions named), and no way to build the image or the authorizer.
func TestPreflight(t *testing.T) {
	tools(t, "jq")
	root := testproc.RepoRoot(t)
	all := []string{"responseTransferMode", "RefreshTokenRotation", "ManagedLoginVersion"}
	// Docker and Go live outside /usr/bin:/bin on this kind of machine; the
	// fakes below stand in for them where a case needs one.
	sys := "/usr/bin:/bin"
	for _, tool := range []string{"docker", "go"} {
		for _, d := range filepath.SplitList(sys) {
			if _, err := os.Stat(filepath.Join(d, tool)); err == nil {
				t.Skipf("%s is in %s: cannot hide it from the scripts", tool, d)
			}
		}
	}
	tests := []struct {
		name    string
		keys    []string
		env     []string
		fakes   map[string]string // extra commands: name -> shell script body
		want    []string
		wantNot []string
	}{
		{name: "CLI without response streaming (v1 before 1.43.0)", keys: all[1:], env: []string{"IMAGE_URI=x", "AUTHORIZER_ZIP=x"},
			want: []string{"aws-cli/1.42.0", "--response-transfer-mode", "AWS CLI v2 2.32.0 or v1 1.43.0"}, wantNot: []string{"refresh-token rotation"}},
		{name: "CLI without rotation and managed login", keys: all[:1], env: []string{"IMAGE_URI=x", "AUTHORIZER_ZIP=x"},
			want: []string{"refresh-token rotation", "--managed-login-version", "AWS CLI v2 2.32.0 or v1 1.43.0"}},
		{name: "no docker, no IMAGE_URI", keys: all, env: []string{"AUTHORIZER_ZIP=x"},
			want: []string{"docker is not installed", "IMAGE_URI"}},
		{name: "docker without buildx", keys: all, env: []string{"AUTHORIZER_ZIP=x"},
			fakes: map[string]string{"docker": `[ "$1" = buildx ] && exit 1; exit 0`},
			want:  []string{"docker buildx is not available"}},
		{name: "docker engine down", keys: all, env: []string{"AUTHORIZER_ZIP=x"},
			fakes: map[string]string{"docker": `[ "$1" = info ] && exit 1; exit 0`},
			want:  []string{"Docker engine is not running"}},
		{name: "no Go and no docker for the authorizer", keys: all, env: []string{"IMAGE_URI=x"},
			want: []string{"the authorizer is built with Go or, without Go, with docker buildx", "AUTHORIZER_ZIP"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			bin, calls := fakeCLI(t, dir, "aws-cli/1.42.0 Python/3.11.7 Linux/6 botocore/1.41.0", tt.keys...)
			for name, body := range tt.fakes {
				if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			jq, _ := exec.LookPath("jq")
			if err := os.Symlink(jq, filepath.Join(bin, "jq")); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("bash", "scripts/deploy.sh")
			cmd.Dir = root
			cmd.Env = append([]string{"PATH=" + bin + ":" + sys, "HOME=" + dir, "AUTH=oauth", "AWS_REGION=us-east-1",
				"DEPLOY_DIR=" + filepath.Join(dir, "d"), "DEPLOY_ENV_FILE=" + filepath.Join(dir, "none")}, tt.env...)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("deploy passed the preflight:\n%s", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(string(out), w) {
					t.Errorf("output says %q:\n%s", w, out)
				}
			}
			if data, err := os.ReadFile(calls); err == nil {
				t.Errorf("AWS called before the preflight failed:\n%s", data)
			}
			if _, err := os.Stat(filepath.Join(dir, "d", "state.env")); err == nil {
				t.Error("state recorded before the preflight failed")
			}
		})
	}
}

// TestInstalledCLIHasEveryFlag: the AWS CLI on this machine passes the
// preflight (v1 here; v2 prints the same skeletons).
func TestInstalledCLIHasEveryFlag(t *testing.T) {
	tools(t, "aws")
	root := testproc.RepoRoot(t)
	dir := t.TempDir()
	cmd := exec.Command("bash", "-c", "source scripts/lib.sh && preflight_aws_cli && aws --version")
	cmd.Dir = root
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "AWS_REGION=us-east-1", "DEPLOY_DIR=" + filepath.Join(dir, "d"),
		"DEPLOY_ENV_FILE=" + filepath.Join(dir, "none")}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the installed AWS CLI fails the preflight: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

// TestSHA256Fallback: without sha256sum (macOS), shasum -a 256 gives the
// same hash.
func TestSHA256Fallback(t *testing.T) {
	root := testproc.RepoRoot(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	// A shasum like macOS's, built from what this machine has.
	real, err := exec.LookPath("sha256sum")
	if err != nil {
		t.Skip("no sha256sum to stand in for shasum")
	}
	script := "#!/bin/sh\n[ \"$1 $2\" = \"-a 256\" ] || exit 2\nexec " + real + "\n"
	if err := os.WriteFile(filepath.Join(bin, "shasum"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	// PATH: the fake shasum and only the commands lib.sh runs, so that no
	// sha256sum is found.
	hidden := filepath.Join(dir, "sys")
	if err := os.Mkdir(hidden, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"bash", "cat", "mkdir", "chmod", "dirname", "awk", "mktemp", "mv", "env", "head", "xargs", "rm", "grep", "sed", "tr", "cut"} {
		if p, err := exec.LookPath(tool); err == nil {
			if err := os.Symlink(p, filepath.Join(hidden, tool)); err != nil {
				t.Fatal(err)
			}
		}
	}
	path := bin + ":" + hidden
	cmd := exec.Command(filepath.Join(hidden, "bash"), "-c", "source scripts/lib.sh && ! command -v sha256sum && printf abc | sha256_hex")
	cmd.Dir = root
	cmd.Env = []string{"PATH=" + path, "HOME=" + dir, "AWS_REGION=us-east-1", "DEPLOY_DIR=" + filepath.Join(dir, "d"), "DEPLOY_ENV_FILE=" + filepath.Join(dir, "none")}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got, want := strings.TrimSpace(string(out)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf("sha256_hex through shasum = %q, want %s", got, want)
	}
}
