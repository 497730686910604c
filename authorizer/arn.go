package authorizer

import (
	"errors"
	"fmt"
	"strings"
)

// methodARN is the parsed methodArn of an authorizer request:
// arn:PARTITION:execute-api:REGION:ACCOUNT:APIID/STAGE/VERB/RESOURCE...
type methodARN struct {
	Partition, Region, Account, APIID, Stage, Verb, Resource string
}

var errBadARN = errors.New("malformed methodArn")

// maxARNBytes is API Gateway's own limit on a method ARN; anything longer
// did not come from it.
const maxARNBytes = 1600

// maxMCPPathBytes keeps each policy resource well under the 512 characters
// API Gateway allows for a resource ARN.
const maxMCPPathBytes = 256

// parseMethodARN parses a method ARN strictly. Each component that ends up
// in the policy must be free of IAM wildcards ("*", "?"), so that a
// crafted or unexpected ARN can never widen the policy.
func parseMethodARN(s string) (methodARN, error) {
	fail := func(why string) (methodARN, error) {
		return methodARN{}, fmt.Errorf("%w: %s", errBadARN, why)
	}
	if len(s) > maxARNBytes {
		return fail("too long")
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return fail("not an ARN")
	}
	a := methodARN{Partition: parts[1], Region: parts[3], Account: parts[4]}
	if parts[2] != "execute-api" {
		return fail("service is not execute-api")
	}
	if !isName(a.Partition, lower|digit|dash) || !isName(a.Region, lower|digit|dash) {
		return fail("bad partition or region")
	}
	if len(a.Account) != 12 || !isName(a.Account, digit) {
		return fail("bad account id")
	}
	path := strings.SplitN(parts[5], "/", 4)
	if len(path) < 3 {
		return fail("want APIID/STAGE/VERB/RESOURCE")
	}
	a.APIID, a.Stage, a.Verb = path[0], path[1], path[2]
	if len(path) == 4 {
		a.Resource = path[3]
	}
	if !isName(a.APIID, lower|upper|digit) {
		return fail("bad API id")
	}
	if !isName(a.Stage, lower|upper|digit|dash|underscore) {
		return fail("bad stage")
	}
	if !isName(a.Verb, upper) {
		return fail("bad HTTP verb")
	}
	return a, nil
}

// mcpMethods are the HTTP methods of the Streamable HTTP transport.
var mcpMethods = []string{"POST", "GET", "DELETE"}

// Resources are the method ARNs of the MCP endpoint at path (MCP_PATH, with
// its leading slash) in this ARN's API and stage, one per MCP method.
func (a methodARN) Resources(path string) []string {
	p := strings.TrimPrefix(path, "/")
	base := "arn:" + a.Partition + ":execute-api:" + a.Region + ":" + a.Account + ":" + a.APIID + "/" + a.Stage + "/"
	out := make([]string, len(mcpMethods))
	for i, m := range mcpMethods {
		out[i] = base + m + "/" + p
	}
	return out
}

// validMCPPath checks MCP_PATH for use in an ARN: absolute, and made of
// path segments of characters API Gateway allows in resource paths, with
// no IAM wildcard or empty segment.
func validMCPPath(p string) error {
	if len(p) > maxMCPPathBytes {
		return fmt.Errorf("MCP_PATH is longer than %d bytes", maxMCPPathBytes)
	}
	if !strings.HasPrefix(p, "/") || p == "/" {
		return fmt.Errorf("MCP_PATH=%q: want an absolute path such as /mcp", p)
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if !isName(seg, lower|upper|digit|dash|underscore|dot) {
			return fmt.Errorf("MCP_PATH=%q: segments may hold only letters, digits, '-', '_' and '.'", p)
		}
	}
	return nil
}

const (
	lower = 1 << iota
	upper
	digit
	dash
	underscore
	dot
)

func isName(s string, classes int) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' && classes&lower != 0:
		case c >= 'A' && c <= 'Z' && classes&upper != 0:
		case c >= '0' && c <= '9' && classes&digit != 0:
		case c == '-' && classes&dash != 0:
		case c == '_' && classes&underscore != 0:
		case c == '.' && classes&dot != 0:
		default:
			return false
		}
	}
	return true
}
