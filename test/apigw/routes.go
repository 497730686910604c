package apigw

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// node is a resource of the API's tree. Parents a configuration does not
// list exist implicitly, without methods: API Gateway creates every
// resource under an existing parent, so a request for a parent path always
// finds a resource there.
type node struct {
	path    string // the resource path template: "/.well-known/{proxy+}"
	id      string
	defined bool // listed in the configuration (or the root)
	methods map[string]*method

	literal map[string]*node
	varName string // {name}
	varNode *node
	greedy  string // {name+}
	greedyN *node
}

// method is a compiled Method.
type method struct {
	authorizer  *authorizer // nil for NONE
	integration bool
}

// verbs are the methods a REST API resource can have.
var verbs = map[string]bool{
	"GET": true, "POST": true, "PUT": true, "DELETE": true, "PATCH": true,
	"HEAD": true, "OPTIONS": true, "ANY": true,
}

func newNode(path string) *node {
	return &node{path: path, id: resourceID(path), methods: map[string]*method{}, literal: map[string]*node{}}
}

// resourceID derives a stable id of the form API Gateway uses (6 lowercase
// alphanumerics) for resources the configuration gives none.
func resourceID(path string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(path))
	s := strconv.FormatUint(uint64(h.Sum32()), 36)
	for len(s) < 6 {
		s = "0" + s
	}
	return s[len(s)-6:]
}

// buildTree builds the resource tree; compile turns each Method into its
// runtime form.
func buildTree(resources []Resource, compile func(path, verb string, m Method) (*method, error)) (*node, error) {
	root := newNode("/")
	root.defined = true
	var errs []error
	seen := map[string]bool{}
	for _, res := range resources {
		n, err := root.insert(res.Path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if seen[n.path] {
			errs = append(errs, fmt.Errorf("resource %s: listed twice", res.Path))
			continue
		}
		seen[n.path] = true
		n.defined = true
		if res.ID != "" {
			n.id = res.ID
		}
		for _, verb := range sortedKeys(res.Methods) {
			v := strings.ToUpper(verb)
			if !verbs[v] {
				errs = append(errs, fmt.Errorf("%s %s: not an HTTP method of a REST API", verb, res.Path))
				continue
			}
			if n.methods[v] != nil {
				errs = append(errs, fmt.Errorf("%s %s: listed twice", v, res.Path))
				continue
			}
			m, err := compile(res.Path, v, res.Methods[verb])
			if err != nil {
				errs = append(errs, err)
				continue
			}
			n.methods[v] = m
		}
	}
	return root, errors.Join(errs...)
}

// insert finds or creates the node of a resource path, checking it as
// create-resource would: one path part per segment, {name} or {name+} for a
// variable, {name+} only last, and at most one variable part among siblings
// ("A sibling ({x}) of this resource already has a variable path part --
// only one is allowed").
func (n *node) insert(path string) (*node, error) {
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("resource %q: path must start with /", path)
	}
	if path == "/" {
		return n, nil
	}
	parts := strings.Split(path[1:], "/")
	cur := n
	for i, part := range parts {
		here := "/" + strings.Join(parts[:i+1], "/")
		if part == "" {
			return nil, fmt.Errorf("resource %q: empty path part", path)
		}
		name, greedy, isVar, err := parsePart(part)
		if err != nil {
			return nil, fmt.Errorf("resource %q: %w", path, err)
		}
		switch {
		case !isVar:
			next := cur.literal[part]
			if next == nil {
				next = newNode(here)
				cur.literal[part] = next
			}
			cur = next
		case greedy:
			if i != len(parts)-1 {
				return nil, fmt.Errorf("resource %q: a greedy path variable must be the last part", path)
			}
			if cur.varNode != nil || (cur.greedyN != nil && cur.greedy != name) {
				return nil, fmt.Errorf("resource %q: a sibling already has a variable path part", path)
			}
			if cur.greedyN == nil {
				cur.greedy, cur.greedyN = name, newNode(here)
			}
			cur = cur.greedyN
		default:
			if cur.greedyN != nil || (cur.varNode != nil && cur.varName != name) {
				return nil, fmt.Errorf("resource %q: a sibling already has a variable path part", path)
			}
			if cur.varNode == nil {
				cur.varName, cur.varNode = name, newNode(here)
			}
			cur = cur.varNode
		}
	}
	return cur, nil
}

// parsePart parses one path part: a literal, {name} or {name+}.
func parsePart(part string) (name string, greedy, isVar bool, err error) {
	if !strings.ContainsAny(part, "{}") {
		return "", false, false, nil
	}
	if !strings.HasPrefix(part, "{") || !strings.HasSuffix(part, "}") {
		return "", false, false, fmt.Errorf("path part %q: a variable must be a whole part", part)
	}
	name = part[1 : len(part)-1]
	if strings.HasSuffix(name, "+") {
		greedy, name = true, strings.TrimSuffix(name, "+")
	}
	if name == "" || strings.ContainsAny(name, "{}+") {
		return "", false, false, fmt.Errorf("path part %q: bad variable name", part)
	}
	return name, greedy, true, nil
}

// match finds the resource of the decoded path segments. A literal part
// wins over a {name} sibling, which wins over a greedy {name+} sibling
// ("Set up a proxy integration with a proxy resource": a specific resource
// takes precedence over a proxy resource at the same level); a branch that
// leads nowhere falls back to the next.
func (n *node) match(segs []string) (*node, map[string]string) {
	if len(segs) == 0 {
		return n, nil
	}
	if next := n.literal[segs[0]]; next != nil {
		if found, params := next.match(segs[1:]); found != nil {
			return found, params
		}
	}
	if n.varNode != nil && segs[0] != "" {
		if found, params := n.varNode.match(segs[1:]); found != nil {
			if params == nil {
				params = map[string]string{}
			}
			params[n.varName] = segs[0]
			return found, params
		}
	}
	if n.greedyN != nil {
		// {name+} takes the rest of the path, at least one segment.
		return n.greedyN, map[string]string{n.greedy: strings.Join(segs, "/")}
	}
	return nil, nil
}
