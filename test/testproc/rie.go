package testproc

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RequireRIEEnv names the variable that, set to 1, turns a skip for a
// missing Lambda Runtime Interface Emulator into a failure.
const RequireRIEEnv = "MCP_REQUIRE_RIE"

// RIE returns the path of aws-lambda-rie, the Lambda Runtime Interface
// Emulator: the pinned build `make test-tools` puts in bin/tools, else one on
// PATH or in GOPATH/bin. When there is none it skips the test, or fails it
// if MCP_REQUIRE_RIE=1.
func RIE(t testing.TB) string {
	t.Helper()
	candidates := []string{filepath.Join(RepoRoot(t), "bin", "tools", "aws-lambda-rie")}
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		candidates = append(candidates, p)
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		candidates = append(candidates, filepath.Join(filepath.Clean(string(out[:len(out)-1])), "bin", "aws-lambda-rie"))
	}
	for _, p := range candidates {
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	msg := "aws-lambda-rie not found: run make test-tools (it installs the pinned emulator into bin/tools)"
	if os.Getenv(RequireRIEEnv) == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}
