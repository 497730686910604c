package bedrock

// A test double of the CloudWatch Logs API for Logs Insights. moto does not
// implement `stats`, so this server evaluates the query subset the report
// uses (fields, filter, stats count/sum by bin(1d) and fields, sort,
// limit) on stored events, and speaks the JSON protocol the real SDK
// sends (the tests point a real client at it through BaseEndpoint, so
// serialisation is covered too). It also serves FilterLogEvents from the
// same events, in pages, for the automatic source choice.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// ---- values and expressions ----

type qkind byte

const (
	qNull qkind = iota
	qNum
	qStr
	qTime // n holds epoch milliseconds
)

type qval struct {
	kind qkind
	n    float64
	s    string
}

func num(f float64) qval { return qval{kind: qNum, n: f} }
func boolv(b bool) qval {
	if b {
		return num(1)
	}
	return num(0)
}

func (v qval) truthy() bool {
	switch v.kind {
	case qNum, qTime:
		return v.n != 0
	case qStr:
		return v.s != ""
	}
	return false
}

// text is how a value appears in query results.
func (v qval) text() string {
	switch v.kind {
	case qNum:
		return strconv.FormatFloat(v.n, 'f', -1, 64)
	case qStr:
		return v.s
	case qTime:
		return time.UnixMilli(int64(v.n)).UTC().Format("2006-01-02 15:04:05.000")
	}
	return ""
}

type qrow map[string]qval

type qexpr interface {
	eval(r qrow) (qval, error)
	src() string
}

type (
	qField string
	qLit   qval
	qNot   struct{ x qexpr }
	qBin   struct {
		op   string
		l, r qexpr
	}
	qCall struct {
		name string
		args []qexpr
		raw  string // argument text for periods such as 1d
	}
)

func (f qField) eval(r qrow) (qval, error) { return r[string(f)], nil }
func (f qField) src() string               { return string(f) }
func (l qLit) eval(qrow) (qval, error)     { return qval(l), nil }
func (l qLit) src() string {
	if l.kind == qStr {
		return strconv.Quote(l.s)
	}
	return qval(l).text()
}
func (n qNot) eval(r qrow) (qval, error) {
	v, err := n.x.eval(r)
	return boolv(!v.truthy()), err
}
func (n qNot) src() string { return "not " + n.x.src() }
func (b qBin) src() string { return b.l.src() + " " + b.op + " " + b.r.src() }
func (b qBin) eval(r qrow) (qval, error) {
	l, err := b.l.eval(r)
	if err != nil {
		return qval{}, err
	}
	if b.op == "and" && !l.truthy() {
		return boolv(false), nil
	}
	if b.op == "or" && l.truthy() {
		return boolv(true), nil
	}
	rv, err := b.r.eval(r)
	if err != nil {
		return qval{}, err
	}
	switch b.op {
	case "and", "or":
		return boolv(rv.truthy()), nil
	case "+", "-":
		if l.kind != qNum || rv.kind != qNum {
			return qval{}, nil
		}
		if b.op == "+" {
			return num(l.n + rv.n), nil
		}
		return num(l.n - rv.n), nil
	}
	// Comparisons: absent values compare false; numbers and times by
	// value, strings as strings.
	if l.kind == qNull || rv.kind == qNull {
		return boolv(false), nil
	}
	var c int
	switch {
	case l.kind != qStr && rv.kind != qStr:
		c = cmpFloat(l.n, rv.n)
	case l.kind == qStr && rv.kind == qStr:
		c = strings.Compare(l.s, rv.s)
	default:
		return boolv(false), nil
	}
	switch b.op {
	case "=":
		return boolv(c == 0), nil
	case "!=":
		return boolv(c != 0), nil
	case "<":
		return boolv(c < 0), nil
	case "<=":
		return boolv(c <= 0), nil
	case ">":
		return boolv(c > 0), nil
	case ">=":
		return boolv(c >= 0), nil
	}
	return qval{}, fmt.Errorf("unknown operator %s", b.op)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (c qCall) src() string {
	if c.raw != "" {
		return c.name + "(" + c.raw + ")"
	}
	parts := make([]string, len(c.args))
	for i, a := range c.args {
		parts[i] = a.src()
	}
	return c.name + "(" + strings.Join(parts, ", ") + ")"
}

func (c qCall) eval(r qrow) (qval, error) {
	switch c.name {
	case "toMillis":
		v, err := c.args[0].eval(r)
		if err != nil || v.kind != qTime {
			return qval{}, err
		}
		return num(v.n), nil
	case "ispresent":
		f, ok := c.args[0].(qField)
		if !ok {
			return qval{}, fmt.Errorf("ispresent needs a field")
		}
		_, present := r[string(f)]
		return boolv(present), nil
	case "coalesce":
		for _, a := range c.args {
			v, err := a.eval(r)
			if err != nil {
				return qval{}, err
			}
			if v.kind != qNull {
				return v, nil
			}
		}
		return qval{}, nil
	case "bin":
		d, err := parsePeriod(c.raw)
		if err != nil {
			return qval{}, err
		}
		ts := r["@timestamp"]
		return qval{kind: qTime, n: math.Floor(ts.n/float64(d.Milliseconds())) * float64(d.Milliseconds())}, nil
	}
	return qval{}, fmt.Errorf("unsupported function %s", c.name)
}

func parsePeriod(s string) (time.Duration, error) {
	i := strings.IndexFunc(s, unicode.IsLetter)
	n, err := strconv.Atoi(s[:max(i, 0)])
	if i <= 0 || err != nil || n <= 0 {
		return 0, fmt.Errorf("bad period %q", s)
	}
	unit := map[string]time.Duration{"d": 24 * time.Hour, "h": time.Hour, "m": time.Minute, "s": time.Second}[s[i:]]
	if unit == 0 {
		return 0, fmt.Errorf("bad period unit %q", s)
	}
	return time.Duration(n) * unit, nil
}

// ---- parsing ----

type qtok struct {
	kind byte // 'i' identifier, 'n' number, 's' string, 'p' period, 'o' operator/punctuation
	s    string
}

func lexQuery(q string) ([]qtok, error) {
	var toks []qtok
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case strings.ContainsRune("|,()*+-", rune(c)):
			toks = append(toks, qtok{'o', string(c)})
			i++
		case c == '<' || c == '>' || c == '!' || c == '=':
			if i+1 < len(q) && q[i+1] == '=' {
				toks = append(toks, qtok{'o', q[i : i+2]})
				i += 2
			} else if c == '!' {
				return nil, fmt.Errorf("stray ! at %d", i)
			} else {
				toks = append(toks, qtok{'o', string(c)})
				i++
			}
		case c == '"':
			j := i + 1
			for j < len(q) && q[j] != '"' {
				if q[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(q) {
				return nil, fmt.Errorf("unterminated string")
			}
			s, err := strconv.Unquote(q[i : j+1])
			if err != nil {
				return nil, err
			}
			toks = append(toks, qtok{'s', s})
			i = j + 1
		case c == '`':
			j := strings.IndexByte(q[i+1:], '`')
			if j < 0 {
				return nil, fmt.Errorf("unterminated backtick")
			}
			toks = append(toks, qtok{'i', q[i+1 : i+1+j]})
			i += j + 2
		case c >= '0' && c <= '9':
			j := i
			for j < len(q) && (q[j] >= '0' && q[j] <= '9' || q[j] == '.') {
				j++
			}
			k := j
			for k < len(q) && unicode.IsLetter(rune(q[k])) {
				k++
			}
			if k > j {
				toks = append(toks, qtok{'p', q[i:k]})
			} else {
				toks = append(toks, qtok{'n', q[i:j]})
			}
			i = k
		case c == '@' || c == '_' || unicode.IsLetter(rune(c)):
			j := i
			for j < len(q) && (q[j] == '@' || q[j] == '_' || q[j] == '.' || unicode.IsLetter(rune(q[j])) || unicode.IsDigit(rune(q[j]))) {
				j++
			}
			toks = append(toks, qtok{'i', q[i:j]})
			i = j
		default:
			return nil, fmt.Errorf("unexpected %q at %d", c, i)
		}
	}
	return toks, nil
}

type qparser struct {
	toks []qtok
	i    int
}

func (p *qparser) peek() qtok {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return qtok{}
}
func (p *qparser) next() qtok { t := p.peek(); p.i++; return t }
func (p *qparser) accept(s string) bool {
	if t := p.peek(); (t.kind == 'o' || t.kind == 'i') && t.s == s {
		p.i++
		return true
	}
	return false
}
func (p *qparser) expect(s string) error {
	if !p.accept(s) {
		return fmt.Errorf("expected %q, found %q", s, p.peek().s)
	}
	return nil
}

func (p *qparser) expr() (qexpr, error) { return p.binary(0) }

var qlevels = [][]string{{"or"}, {"and"}, {"=", "!=", "<", "<=", ">", ">="}, {"+", "-"}}

func (p *qparser) binary(level int) (qexpr, error) {
	if level == len(qlevels) {
		return p.unary()
	}
	l, err := p.binary(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if !slices.Contains(qlevels[level], t.s) || t.kind == 's' {
			return l, nil
		}
		p.i++
		r, err := p.binary(level + 1)
		if err != nil {
			return nil, err
		}
		l = qBin{op: t.s, l: l, r: r}
	}
}

func (p *qparser) unary() (qexpr, error) {
	if p.accept("not") {
		x, err := p.unary()
		return qNot{x}, err
	}
	t := p.next()
	switch t.kind {
	case 'n':
		f, err := strconv.ParseFloat(t.s, 64)
		return qLit(num(f)), err
	case 's':
		return qLit(qval{kind: qStr, s: t.s}), nil
	case 'o':
		if t.s == "(" {
			x, err := p.expr()
			if err != nil {
				return nil, err
			}
			return x, p.expect(")")
		}
	case 'i':
		if !p.accept("(") {
			return qField(t.s), nil
		}
		c := qCall{name: t.s}
		if a := p.peek(); a.kind == 'p' || (a.kind == 'o' && a.s == "*") {
			c.raw = p.next().s
			return c, p.expect(")")
		}
		for !p.accept(")") {
			if len(c.args) > 0 {
				if err := p.expect(","); err != nil {
					return nil, err
				}
			}
			a, err := p.expr()
			if err != nil {
				return nil, err
			}
			c.args = append(c.args, a)
		}
		return c, nil
	}
	return nil, fmt.Errorf("unexpected %q", t.s)
}

type (
	qNamed struct {
		name string
		x    qexpr
	}
	qCommand struct {
		verb     string
		exprs    []qNamed // fields, stats aggregates
		by       []qNamed // stats groups
		cond     qexpr    // filter
		sortKey  string
		sortDesc bool
		limit    int
	}
)

func (p *qparser) namedList() ([]qNamed, error) {
	var out []qNamed
	for {
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		n := qNamed{name: x.src(), x: x}
		if p.accept("as") {
			n.name = p.next().s
		}
		out = append(out, n)
		if !p.accept(",") {
			return out, nil
		}
	}
}

func parseQuery(q string) ([]qCommand, error) {
	toks, err := lexQuery(q)
	if err != nil {
		return nil, err
	}
	p := &qparser{toks: toks}
	var cmds []qCommand
	for {
		c := qCommand{verb: p.next().s}
		switch c.verb {
		case "fields":
			c.exprs, err = p.namedList()
		case "filter":
			c.cond, err = p.expr()
		case "stats":
			if c.exprs, err = p.namedList(); err == nil && p.accept("by") {
				c.by, err = p.namedList()
			}
		case "sort":
			c.sortKey = p.next().s
			c.sortDesc = p.accept("desc")
			if !c.sortDesc {
				p.accept("asc")
			}
		case "limit":
			c.limit, err = strconv.Atoi(p.next().s)
		default:
			return nil, fmt.Errorf("unsupported command %q", c.verb)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.verb, err)
		}
		cmds = append(cmds, c)
		if p.i >= len(p.toks) {
			return cmds, nil
		}
		if err := p.expect("|"); err != nil {
			return nil, err
		}
	}
}

// ---- evaluation ----

// eventRow flattens a JSON event as Logs Insights does: nested keys joined
// with dots; a message that is not JSON has only the system fields.
func eventRow(e cwEvent) qrow {
	r := qrow{"@timestamp": {kind: qTime, n: float64(e.ts)}, "@message": {kind: qStr, s: e.msg}}
	d := json.NewDecoder(strings.NewReader(e.msg))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil || d.More() {
		return r
	}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				walk(prefix+k+".", c)
			}
		case []any:
			for i, c := range x {
				walk(prefix+strconv.Itoa(i)+".", c)
			}
		case json.Number:
			f, _ := x.Float64()
			r[strings.TrimSuffix(prefix, ".")] = num(f)
		case string:
			r[strings.TrimSuffix(prefix, ".")] = qval{kind: qStr, s: x}
		case bool:
			r[strings.TrimSuffix(prefix, ".")] = qval{kind: qStr, s: strconv.FormatBool(x)}
		}
	}
	if m, ok := v.(map[string]any); ok {
		walk("", m)
	}
	return r
}

// evalQuery runs a parsed query over events and returns the result rows
// (as ordered field/value pairs) and the number of events that passed the
// filters.
func evalQuery(cmds []qCommand, events []cwEvent) (rows [][][2]string, matched int, err error) {
	data := make([]qrow, 0, len(events))
	for _, e := range events {
		data = append(data, eventRow(e))
	}
	var columns []string
	matched = -1
	limit := MaxInsightsRows
	for _, c := range cmds {
		switch c.verb {
		case "fields":
			for _, r := range data {
				for _, n := range c.exprs {
					v, err := n.x.eval(r)
					if err != nil {
						return nil, 0, err
					}
					if v.kind == qNull {
						delete(r, n.name)
					} else {
						r[n.name] = v
					}
				}
			}
			for _, n := range c.exprs {
				if !slices.Contains(columns, n.name) {
					columns = append(columns, n.name)
				}
			}
		case "filter":
			kept := data[:0]
			for _, r := range data {
				v, err := c.cond.eval(r)
				if err != nil {
					return nil, 0, err
				}
				if v.truthy() {
					kept = append(kept, r)
				}
			}
			data = kept
		case "stats":
			matched = len(data)
			data, columns, err = evalStats(c, data)
			if err != nil {
				return nil, 0, err
			}
		case "sort":
			slices.SortStableFunc(data, func(a, b qrow) int {
				x, y := a[c.sortKey], b[c.sortKey]
				r := cmpFloat(x.n, y.n)
				if x.kind == qStr || y.kind == qStr {
					r = strings.Compare(x.s, y.s)
				}
				if c.sortDesc {
					return -r
				}
				return r
			})
		case "limit":
			limit = min(limit, c.limit)
		}
	}
	if matched < 0 {
		matched = len(data)
	}
	for _, r := range data[:min(limit, len(data))] {
		var row [][2]string
		for _, col := range columns {
			if v, ok := r[col]; ok {
				row = append(row, [2]string{col, v.text()})
			}
		}
		rows = append(rows, row)
	}
	return rows, matched, nil
}

func evalStats(c qCommand, data []qrow) ([]qrow, []string, error) {
	type acc struct {
		key  qrow
		vals []float64
		seen []bool
	}
	groups := map[string]*acc{}
	var order []string
	for _, r := range data {
		key := qrow{}
		var id strings.Builder
		for _, b := range c.by {
			v, err := b.x.eval(r)
			if err != nil {
				return nil, nil, err
			}
			if v.kind != qNull {
				key[b.name] = v
			}
			fmt.Fprintf(&id, "%d:%s\x00", v.kind, v.text())
		}
		g := groups[id.String()]
		if g == nil {
			g = &acc{key: key, vals: make([]float64, len(c.exprs)), seen: make([]bool, len(c.exprs))}
			groups[id.String()] = g
			order = append(order, id.String())
		}
		for i, a := range c.exprs {
			call, ok := a.x.(qCall)
			if !ok {
				return nil, nil, fmt.Errorf("stats needs aggregate functions, not %s", a.x.src())
			}
			switch call.name {
			case "count":
				if call.raw == "*" {
					g.vals[i]++
					g.seen[i] = true
				}
			case "sum":
				v, err := call.args[0].eval(r)
				if err != nil {
					return nil, nil, err
				}
				if v.kind == qNum {
					g.vals[i] += v.n
					g.seen[i] = true
				}
			default:
				return nil, nil, fmt.Errorf("unsupported aggregate %s", call.name)
			}
		}
	}
	if len(c.by) == 0 && len(groups) == 0 {
		groups[""] = &acc{key: qrow{}, vals: make([]float64, len(c.exprs)), seen: make([]bool, len(c.exprs))}
		order = append(order, "")
	}
	var out []qrow
	var cols []string
	for _, b := range c.by {
		cols = append(cols, b.name)
	}
	for _, a := range c.exprs {
		cols = append(cols, a.name)
	}
	for _, id := range order {
		g := groups[id]
		r := qrow{}
		for k, v := range g.key {
			r[k] = v
		}
		for i, a := range c.exprs {
			r[a.name] = num(g.vals[i])
		}
		out = append(out, r)
	}
	return out, cols, nil
}

// ---- the server ----

type fakeQuery struct {
	id, text  string
	rows      [][][2]string
	scanned   int
	matched   int
	bytes     int
	pollsLeft int
	done      bool
	stopped   bool
}

// fakeInsights is the test double. Set its fields before use.
type fakeInsights struct {
	t *testing.T
	// events returns a log group's events (sorted by time), or ok=false
	// for a group that does not exist.
	events func(group string) (evs []cwEvent, ok bool)
	// polls is how many times GetQueryResults answers Running before
	// Complete; hang makes queries run until stopped.
	polls int
	hang  bool
	// startErr returns an error code to answer StartQuery call n with
	// ("" for none).
	startErr func(n int) string
	// accountLimit emulates the concurrent-query limit (0: none).
	accountLimit int
	// pageSize is FilterLogEvents' page size (default 10000).
	pageSize int

	mu                  sync.Mutex
	queries             map[string]*fakeQuery
	order               []string
	startCalls, polled  int
	stopCalls           int
	running, maxRunning int
	filterCalls         int
}

func (f *fakeInsights) start() (url string) {
	f.queries = map[string]*fakeQuery{}
	ts := httptest.NewServer(http.HandlerFunc(f.serve))
	f.t.Cleanup(ts.Close)
	return ts.URL
}

// client returns a real SDK client that talks to the fake, without the
// SDK's own retries (the source's retries are under test).
func (f *fakeInsights) client(url string) *cloudwatchlogs.Client {
	return cloudwatchlogs.NewFromConfig(fakeAWSConfig(url))
}

func fakeAWSConfig(url string) aws.Config {
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDFAKE", "secret", ""),
		BaseEndpoint:     aws.String(url),
		RetryMaxAttempts: 1,
		HTTPClient:       &http.Client{Transport: bufferedBody{&http.Transport{}}},
	}
}

// bufferedBody hands the transport request bodies read in full. The SDK
// streams a body through a pipe whose end the transport waits for after
// the response; an instant local answer can arrive first, and when the wait
// outlasts net/http's 50ms grace (under the race detector, on a busy
// machine) the transport closes the connection mid-response ("use of
// closed network connection"). Real endpoints answer after the pipe ends.
type bufferedBody struct{ rt http.RoundTripper }

func (b bufferedBody) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		data, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		r = r.Clone(r.Context())
		r.Body = io.NopCloser(bytes.NewReader(data))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	}
	return b.rt.RoundTrip(r)
}

func (f *fakeInsights) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "Logs_20140328.")
	var in map[string]any
	if err := json.Unmarshal(body, &in); err != nil {
		fakeErr(w, "SerializationException", err.Error())
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch op {
	case "StartQuery":
		f.startQuery(w, in)
	case "GetQueryResults":
		f.getResults(w, in)
	case "StopQuery":
		f.stopCalls++
		q := f.queries[str(in["queryId"])]
		if q == nil || q.done {
			fakeErr(w, "InvalidParameterException", "query is not running")
			return
		}
		q.done, q.stopped = true, true
		f.running--
		fakeJSON(w, map[string]any{"success": true})
	case "FilterLogEvents":
		f.filter(w, in)
	default:
		fakeErr(w, "UnknownOperationException", op)
	}
}

func str(v any) string { s, _ := v.(string); return s }
func intOf(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

func (f *fakeInsights) groupEvents(w http.ResponseWriter, in map[string]any) ([]cwEvent, bool) {
	group := str(in["logGroupName"])
	if group == "" {
		if ids, _ := in["logGroupIdentifiers"].([]any); len(ids) == 1 {
			group = str(ids[0])
		} else {
			group = str(in["logGroupIdentifier"])
		}
	}
	evs, ok := f.events(group)
	if !ok {
		fakeErr(w, "ResourceNotFoundException", "The specified log group does not exist.")
	}
	return evs, ok
}

func (f *fakeInsights) startQuery(w http.ResponseWriter, in map[string]any) {
	n := f.startCalls
	f.startCalls++
	if f.startErr != nil {
		if code := f.startErr(n); code != "" {
			fakeErr(w, code, "injected")
			return
		}
	}
	if f.accountLimit > 0 && f.running >= f.accountLimit {
		fakeErr(w, "LimitExceededException", "Account maximum query concurrency limit of ["+strconv.Itoa(f.accountLimit)+"] reached.")
		return
	}
	evs, ok := f.groupEvents(w, in)
	if !ok {
		return
	}
	text := str(in["queryString"])
	cmds, err := parseQuery(text)
	if err != nil {
		fakeErr(w, "MalformedQueryException", err.Error())
		return
	}
	// Both bounds are inclusive, in whole seconds.
	from, to := intOf(in["startTime"])*1000, intOf(in["endTime"])*1000+999
	var inRange []cwEvent
	bytes := 0
	for _, e := range evs {
		if e.ts >= from && e.ts <= to {
			inRange = append(inRange, e)
			bytes += len(e.msg)
		}
	}
	rows, matched, err := evalQuery(cmds, inRange)
	if err != nil {
		fakeErr(w, "MalformedQueryException", err.Error())
		return
	}
	if lim := intOf(in["limit"]); lim > 0 && int(lim) < len(rows) {
		rows = rows[:lim]
	}
	id := fmt.Sprintf("q-%04d", len(f.order))
	f.queries[id] = &fakeQuery{id: id, text: text, rows: rows, scanned: len(inRange), matched: matched, bytes: bytes, pollsLeft: f.polls}
	f.order = append(f.order, id)
	f.running++
	f.maxRunning = max(f.maxRunning, f.running)
	fakeJSON(w, map[string]any{"queryId": id})
}

func (f *fakeInsights) getResults(w http.ResponseWriter, in map[string]any) {
	f.polled++
	q := f.queries[str(in["queryId"])]
	if q == nil {
		fakeErr(w, "ResourceNotFoundException", "no such query")
		return
	}
	stats := func(frac float64) map[string]any {
		return map[string]any{"recordsScanned": math.Floor(float64(q.scanned) * frac), "recordsMatched": math.Floor(float64(q.matched) * frac),
			"bytesScanned": math.Floor(float64(q.bytes) * frac)}
	}
	switch {
	case q.stopped:
		fakeJSON(w, map[string]any{"status": "Cancelled", "results": []any{}, "statistics": stats(0)})
	case f.hang || q.pollsLeft > 0:
		frac := 0.0
		if !f.hang {
			frac = 1 - float64(q.pollsLeft)/float64(f.polls+1)
			q.pollsLeft--
		}
		fakeJSON(w, map[string]any{"status": "Running", "results": []any{}, "statistics": stats(frac)})
	default:
		if !q.done {
			q.done = true
			f.running--
		}
		results := make([][]map[string]string, 0, len(q.rows))
		for _, row := range q.rows {
			var r []map[string]string
			for _, kv := range row {
				r = append(r, map[string]string{"field": kv[0], "value": kv[1]})
			}
			r = append(r, map[string]string{"field": "@ptr", "value": "ptr"})
			results = append(results, r)
		}
		fakeJSON(w, map[string]any{"status": "Complete", "results": results, "statistics": stats(1)})
	}
}

// filter serves FilterLogEvents from the same events: [startTime,
// endTime] inclusive in milliseconds, pageSize events a page.
func (f *fakeInsights) filter(w http.ResponseWriter, in map[string]any) {
	f.filterCalls++
	evs, ok := f.groupEvents(w, in)
	if !ok {
		return
	}
	from, to := int64(math.MinInt64), int64(math.MaxInt64)
	if v, ok := in["startTime"]; ok {
		from = intOf(v)
	}
	if v, ok := in["endTime"]; ok {
		to = intOf(v)
	}
	var sel []cwEvent
	for _, e := range evs {
		if e.ts >= from && e.ts <= to {
			sel = append(sel, e)
		}
	}
	off, _ := strconv.Atoi(str(in["nextToken"]))
	size := f.pageSize
	if size <= 0 {
		size = 10000
	}
	end := min(off+size, len(sel))
	out := map[string]any{}
	var page []map[string]any
	for _, e := range sel[off:end] {
		page = append(page, map[string]any{"timestamp": e.ts, "message": e.msg, "logStreamName": "s", "eventId": strconv.FormatInt(e.ts, 10)})
	}
	out["events"] = page
	if end < len(sel) {
		out["nextToken"] = strconv.Itoa(end)
	}
	fakeJSON(w, out)
}

func fakeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode(v)
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	_, _ = w.Write(b.Bytes())
}

func fakeErr(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

// counts returns how many queries were started, how many of them were
// stopped, and how many still run.
func (f *fakeInsights) counts() (started, stopped, running int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range f.order {
		if f.queries[id].stopped {
			stopped++
		}
	}
	return len(f.order), stopped, f.running
}
