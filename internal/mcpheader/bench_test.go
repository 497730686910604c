package mcpheader

import (
	"encoding/json"
	"net/http"
	"testing"
)

// The server runs CheckStandard on every modern request; a request with
// plain names must cost no allocation.
func BenchmarkCheckStandard(b *testing.B) {
	h := http.Header{"Mcp-Method": {"tools/call"}, "Mcp-Name": {"get_weather"}}
	b.ReportAllocs()
	for b.Loop() {
		if err := CheckStandard(h, "tools/call", "get_weather", true); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckStandardList(b *testing.B) {
	h := http.Header{"Mcp-Method": {"tools/list"}}
	b.ReportAllocs()
	for b.Loop() {
		if err := CheckStandard(h, "tools/list", "", false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckParams(b *testing.B) {
	params, err := ParseToolHeaders(json.RawMessage(customHeadersSchema))
	if err != nil {
		b.Fatal(err)
	}
	args := json.RawMessage(customHeadersArgs)
	h, err := ParamHeaders(params, args)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := CheckParams(params, h, args); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseToolHeaders(b *testing.B) {
	schema := json.RawMessage(customHeadersSchema)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseToolHeaders(schema); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCheckStandardAllocs keeps the hot path allocation-free in ordinary
// test runs, not only when someone reads benchmark output.
func TestCheckStandardAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are unreliable under the race detector")
	}
	cases := []struct {
		h            http.Header
		method, name string
		hasName      bool
	}{
		{http.Header{"Mcp-Method": {"tools/call"}, "Mcp-Name": {"get_weather"}}, "tools/call", "get_weather", true},
		{http.Header{"Mcp-Method": {" resources/read "}, "Mcp-Name": {"file:///a/b.json"}}, "resources/read", "file:///a/b.json", true},
		{http.Header{"Mcp-Method": {"tools/list"}}, "tools/list", "", false},
	}
	for _, c := range cases {
		n := testing.AllocsPerRun(100, func() {
			if err := CheckStandard(c.h, c.method, c.name, c.hasName); err != nil {
				t.Fatal(err)
			}
		})
		if n != 0 {
			t.Errorf("CheckStandard(%v) allocates %v times per call", c.h, n)
		}
	}
	n := testing.AllocsPerRun(100, func() {
		if _, err := DecodeValue("us-west1"); err != nil {
			t.Fatal(err)
		}
		_ = EncodeValue("us-west1")
	})
	if n != 0 {
		t.Errorf("plain DecodeValue/EncodeValue allocate %v times per call", n)
	}
}
