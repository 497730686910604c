package mcp

import (
	"encoding/json"
	"testing"
)

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\s`, "<a>&", "\n\r\t\b\f\x00\x1f", "é中😀", "\u2028\u2029", "bad\xffutf8\xc3", "end\xe2\x80"} {
		want, _ := json.Marshal(s)
		if got := AppendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add("hello <world> & \u2028 \xff")
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendJSONString(nil, s); string(got) != string(want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	})
}

func TestCallToolResultAppendJSON(t *testing.T) {
	size := int64(3)
	for _, r := range []*CallToolResult{
		{},
		ToolText("Hello, <b>!"),
		ToolError("bad \"x\""),
		{Content: []Content{TextContent("a"), ImageContent("AA==", "image/png"), {Type: ContentResourceLink, URI: "a://b", Name: "n", Size: &size}}},
		{Content: []Content{{Type: ContentText, Text: "t", Annotations: &Annotations{Audience: []Role{RoleUser}}}}, StructuredContent: map[string]any{"n": 1, "s": "<"}, Meta: Meta{"k": true}},
	} {
		got, err := r.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(r)
		if r.Content == nil { // encoding/json writes null; the protocol needs []
			want = []byte(`{"content":[]}`)
		}
		if string(got) != string(want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}
