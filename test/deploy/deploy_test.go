// Package deploy tests the deployment scripts (scripts/, deploy.mk) and the
// Dockerfile. The scripts run for real, through make and the AWS CLI, against
// moto_server; every AWS CLI invocation also goes through a recording shim so
// the test can assert settings moto does not keep (responseTransferMode).
package deploy

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"mcplambda/test/moto"
	"mcplambda/test/testproc"
)

const (
	account = "123456789012"
	region  = moto.Region
)

// tools skips (or fails, when moto is required) without what the scripts need.
func tools(t *testing.T, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			if moto.Required() {
				t.Fatalf("%s is required (MCP_REQUIRE_MOTO=1) but not on PATH", name)
			}
			t.Skipf("%s not on PATH", name)
		}
	}
}

// realAWS finds the AWS CLI itself, past a pyenv shim, which costs a shell
// and a pyenv start on every call.
func realAWS(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("aws")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(p, "/.pyenv/shims/") {
		if out, err := exec.Command("pyenv", "which", "aws").Output(); err == nil {
			if q := strings.TrimSpace(string(out)); q != "" {
				return q
			}
		}
	}
	return p
}

// env is one deployment's world: moto credentials, its own names and
// .deploy directory, and the recording aws shim first on PATH.
type env struct {
	t       *testing.T
	root    string
	vars    []string
	calls   string // the shim's log: one record per call, arguments separated by \x1f
	deploy  string // DEPLOY_DIR
	zip     string // a stand-in authorizer package, for AUTHORIZER_ZIP
	srv     *moto.Server
	bins    functionBinaries
	fn      string
	authzFn string
	api     string
	table   string
}

func newEnv(t *testing.T, srv *moto.Server, root, aws, name string, extra ...string) *env {
	dir := t.TempDir()
	shim := filepath.Join(dir, "bin")
	if err := os.Mkdir(shim, 0o755); err != nil {
		t.Fatal(err)
	}
	calls := filepath.Join(dir, "aws-calls.log")
	script := "#!/usr/bin/env bash\n" +
		"{ printf '%s\\x1f' \"$@\"; printf '\\x1e\\n'; } >>\"$AWS_CALL_LOG\"\n" +
		"exec " + shellQuote(aws) + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(shim, "aws"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	e := &env{
		t: t, root: root, calls: calls, deploy: filepath.Join(dir, "deploy"), srv: srv,
		fn: name + "-fn", authzFn: name + "-authz", api: name + "-api", table: name + "-sessions",
	}
	for _, kv := range srv.Environ() {
		if !strings.HasPrefix(kv, "PATH=") && !strings.HasPrefix(kv, "MAKEFLAGS=") && !strings.HasPrefix(kv, "MAKELEVEL=") {
			e.vars = append(e.vars, kv)
		}
	}
	e.vars = append(e.vars,
		"PATH="+shim+string(os.PathListSeparator)+os.Getenv("PATH"),
		"AWS_CALL_LOG="+calls,
		"DEPLOY_DIR="+e.deploy,
		// A developer's own deploy.env must never steer the test.
		"DEPLOY_ENV_FILE="+filepath.Join(dir, "no-deploy.env"),
		"FUNCTION_NAME="+e.fn,
		"AUTHORIZER_NAME="+e.authzFn,
		"API_NAME="+e.api,
		"SESSION_TABLE="+e.table,
	)
	e.vars = append(e.vars, extra...)
	return e
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// run runs a command in the repository root with the deployment's
// environment (plus extra variables) and returns its combined output.
func (e *env) run(extra []string, name string, args ...string) string {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = e.root
	cmd.Env = append(slices.Clone(e.vars), extra...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		e.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, testproc.Tail(string(out), 60))
	}
	return string(out)
}

// make runs a target of deploy.mk, through the Makefile once it includes it.
func (e *env) make(extra []string, args ...string) string {
	e.t.Helper()
	mk, err := os.ReadFile(filepath.Join(e.root, "Makefile"))
	if err != nil {
		e.t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^-?include\s+deploy\.mk`).Match(mk) {
		args = append([]string{"-f", "Makefile", "-f", "deploy.mk"}, args...)
	}
	before := len(e.callsOf("", ""))
	out := e.run(extra, "make", append([]string{"--no-print-directory"}, args...)...)
	e.t.Logf("make %s: %d AWS CLI calls", strings.Join(args, " "), len(e.callsOf("", ""))-before)
	return out
}

// aws runs the AWS CLI (not through the shim) and decodes its JSON answer.
func (e *env) aws(v any, args ...string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "aws", append(args, "--output", "json")...)
	cmd.Env = e.vars
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		e.t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if len(bytes.TrimSpace(out)) == 0 {
		return
	}
	if err := json.Unmarshal(out, v); err != nil {
		e.t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// callsOf returns the recorded argument lists of "aws SERVICE OP" calls
// (of every call when service is empty).
func (e *env) callsOf(service, op string) [][]string {
	e.t.Helper()
	data, err := os.ReadFile(e.calls)
	if err != nil && !os.IsNotExist(err) {
		e.t.Fatal(err)
	}
	var found [][]string
	// Records end with \x1e and a newline; arguments (JSON documents) may
	// hold newlines themselves.
	for _, rec := range strings.Split(string(data), "\x1e\n") {
		if rec == "" {
			continue
		}
		args := strings.Split(strings.TrimSuffix(rec, "\x1f"), "\x1f")
		if slices.Contains(args, "--generate-cli-skeleton") || slices.Equal(args, []string{"--version"}) ||
			(len(args) > 0 && args[0] == "configure") {
			continue // the preflight's and lib.sh's local questions, not AWS calls
		}
		if service == "" {
			found = append(found, args)
			continue
		}
		// Global options such as --output may come first.
		i := 0
		for i < len(args) && strings.HasPrefix(args[i], "--") {
			i += 2
		}
		if i+1 < len(args) && args[i] == service && args[i+1] == op {
			found = append(found, args)
		}
	}
	return found
}

func (e *env) resetCalls() {
	if err := os.Remove(e.calls); err != nil && !os.IsNotExist(err) {
		e.t.Fatal(err)
	}
}

// argValue returns the value following flag in a recorded call.
func argValue(args []string, flag string) string {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// readEnvFile parses KEY=VALUE lines and checks the file is private.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, st.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	kv := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: malformed line %q", path, line)
		}
		kv[k] = v
	}
	return kv
}

// fakeImage puts an image manifest into moto's ECR, so IMAGE_URI names
// something that exists (no docker here: the scripts skip the build).
func fakeImage(t *testing.T, e *env) string {
	t.Helper()
	var repo struct {
		Repository struct {
			RepositoryURI string `json:"repositoryUri"`
		} `json:"repository"`
	}
	e.aws(&repo, "ecr", "create-repository", "--repository-name", "deploy-test-image")
	manifest := `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",` +
		`"config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":2,"digest":"sha256:` +
		strings.Repeat("a", 64) + `"},"layers":[]}`
	var put any
	e.aws(&put, "ecr", "put-image", "--repository-name", "deploy-test-image", "--image-tag", "v1", "--image-manifest", manifest)
	return repo.Repository.RepositoryURI + ":v1"
}

// authorizerZip is a stand-in for the authorizer package: a zip holding an
// executable named bootstrap (moto never runs it).
func authorizerZip(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "authorizer.zip")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("#!/bin/sh\nexit 1\n")); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDeployOnMoto deploys with each AUTH mode, checks every resource and
// setting, deploys again (no duplicates, environment updated), destroys, and
// checks nothing is left. The two modes run side by side on one moto_server,
// under different names.
func TestDeployOnMoto(t *testing.T) {
	tools(t, "aws", "jq", "make", "bash", "go")
	root := testproc.RepoRoot(t)
	srv := moto.Start(t)
	aws := realAWS(t)
	setup := newEnv(t, srv, root, aws, "setup")
	image := fakeImage(t, setup)
	zipPath := authorizerZip(t)
	// The functions themselves, run behind the gateway double after a deploy.
	bins := functionBinaries{
		server:     testproc.BuildRace(t, root, "./cmd/mcp-server"),
		authorizer: testproc.BuildRace(t, root, "./cmd/mcp-authorizer"),
	}

	t.Run("oauth", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, srv, root, aws, "oa", "IMAGE_URI="+image,
			"BEDROCK_ALLOWED_ACCOUNTS=111122223333, 444455556666,"+account+",111122223333", "BEDROCK_EXTERNAL_ID=mcp-usage-test")
		e.bins = bins
		testOAuth(t, e)
	})
	t.Run("lambda", func(t *testing.T) {
		t.Parallel()
		// The first deploy builds the authorizer for arm64; the second takes AUTHORIZER_ZIP.
		e := newEnv(t, srv, root, aws, "la", "IMAGE_URI="+image, "ARCH=arm64", "MEMORY_SIZE=1024")
		e.zip, e.bins = zipPath, bins
		testLambda(t, e)
	})
	t.Run("adopted", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, srv, root, aws, "ad", "IMAGE_URI="+image, "AUTHORIZER_ZIP="+zipPath)
		testAdopted(t, e, image)
	})
}
