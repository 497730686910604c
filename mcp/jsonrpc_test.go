package mcp

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestDecodeMessage(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		kind     Kind
		id       string // expected id text
		code     int    // expected DecodeError code, 0 = success
		errID    string // id salvaged into the error
		wantPart string
	}{
		{name: "request numeric id", in: `{"jsonrpc":"2.0","id":1,"method":"ping"}`, kind: KindRequest, id: "1"},
		{name: "request zero id", in: `{"jsonrpc":"2.0","id":0,"method":"ping"}`, kind: KindRequest, id: "0"},
		{name: "request string id", in: `{"jsonrpc":"2.0","id":"abc","method":"ping"}`, kind: KindRequest, id: `"abc"`},
		{name: "id kept verbatim", in: `{"jsonrpc":"2.0","id":1.50,"method":"ping"}`, kind: KindRequest, id: "1.50"},
		{name: "escaped string id kept verbatim", in: `{"jsonrpc":"2.0","id":"a\u0041","method":"ping"}`, kind: KindRequest, id: `"a\u0041"`},
		{name: "notification", in: `{"jsonrpc":"2.0","method":"notifications/initialized"}`, kind: KindNotification},
		{name: "response", in: `{"jsonrpc":"2.0","id":7,"result":{}}`, kind: KindResponse, id: "7"},
		{name: "error response", in: `{"jsonrpc":"2.0","id":7,"error":{"code":-1,"message":"x"}}`, kind: KindResponse, id: "7"},
		{name: "error response with null id", in: `{"jsonrpc":"2.0","id":null,"error":{"code":-1,"message":"x"}}`, kind: KindResponse, id: "null"},
		{name: "not json", in: `{"jsonrpc":`, code: CodeParseError, wantPart: "parse error"},
		{name: "empty", in: ``, code: CodeParseError},
		{name: "scalar", in: `42`, code: CodeInvalidRequest, wantPart: "JSON object"},
		{name: "wrong version", in: `{"jsonrpc":"1.0","id":3,"method":"ping"}`, code: CodeInvalidRequest, errID: "3", wantPart: `"2.0"`},
		{name: "missing version", in: `{"id":3,"method":"ping"}`, code: CodeInvalidRequest, errID: "3"},
		{name: "null request id", in: `{"jsonrpc":"2.0","id":null,"method":"ping"}`, code: CodeInvalidRequest, wantPart: "not null"},
		{name: "object id", in: `{"jsonrpc":"2.0","id":{},"method":"ping"}`, code: CodeInvalidRequest, wantPart: "string or a number"},
		{name: "bool id", in: `{"jsonrpc":"2.0","id":true,"method":"ping"}`, code: CodeInvalidRequest},
		{name: "method not string", in: `{"jsonrpc":"2.0","id":4,"method":5}`, code: CodeInvalidRequest, errID: "4", wantPart: `"method"`},
		{name: "scalar params", in: `{"jsonrpc":"2.0","id":5,"method":"ping","params":3}`, code: CodeInvalidRequest, errID: "5"},
		{name: "nothing", in: `{"jsonrpc":"2.0"}`, code: CodeInvalidRequest},
		{name: "result and error", in: `{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":""}}`, code: CodeInvalidRequest, errID: "1"},
		{name: "request with result", in: `{"jsonrpc":"2.0","id":1,"method":"x","result":{}}`, code: CodeInvalidRequest, errID: "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := DecodeMessage([]byte(tt.in))
			if tt.code != 0 {
				var de *DecodeError
				if !errors.As(err, &de) {
					t.Fatalf("want DecodeError %d, got %v (msg %+v)", tt.code, err, m)
				}
				if de.Code != tt.code {
					t.Errorf("code = %d, want %d (%s)", de.Code, tt.code, de.Reason)
				}
				if de.ID.String() != tt.errID {
					t.Errorf("salvaged id = %q, want %q", de.ID.String(), tt.errID)
				}
				if tt.wantPart != "" && !contains(de.Reason, tt.wantPart) {
					t.Errorf("reason %q lacks %q", de.Reason, tt.wantPart)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Kind() != tt.kind {
				t.Errorf("kind = %v, want %v", m.Kind(), tt.kind)
			}
			if m.ID.String() != tt.id {
				t.Errorf("id = %q, want %q", m.ID.String(), tt.id)
			}
		})
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && (s == sub || indexOf(s, sub) >= 0))
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestResponsesEchoIDExactly(t *testing.T) {
	for _, raw := range []string{`0`, `-3`, `1e3`, `"x"`, `"\u00e9"`, `12345678901234567890`} {
		m, err := DecodeMessage([]byte(`{"jsonrpc":"2.0","id":` + raw + `,"method":"ping"}`))
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		got := string(AppendResponse(nil, m.ID, []byte(`{}`)))
		want := `{"jsonrpc":"2.0","id":` + raw + `,"result":{}}`
		if got != want {
			t.Errorf("got %s, want %s", got, want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("invalid JSON %s", got)
		}
		e := string(AppendErrorResponse(nil, m.ID, &Error{Code: CodeInvalidParams, Message: `bad "x"`}))
		if e != `{"jsonrpc":"2.0","id":`+raw+`,"error":{"code":-32602,"message":"bad \"x\""}}` {
			t.Errorf("error response %s", e)
		}
	}
}

func TestDecodeBatch(t *testing.T) {
	msgs, errs, err := DecodeBatch([]byte(` [{"jsonrpc":"2.0","id":1,"method":"ping"}, 5, {"jsonrpc":"2.0","method":"n"}]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 || msgs[0] == nil || msgs[1] != nil || errs[1] == nil || msgs[2].Kind() != KindNotification {
		t.Fatalf("unexpected %v %v", msgs, errs)
	}
	if _, _, err := DecodeBatch([]byte(`[]`)); err == nil {
		t.Error("empty batch accepted")
	}
	if _, _, err := DecodeBatch([]byte(`[{`)); err.(*DecodeError).Code != CodeParseError {
		t.Error("broken batch not a parse error")
	}
	if !IsBatch([]byte("\n [ ")) || IsBatch([]byte(` {`)) || IsBatch(nil) {
		t.Error("IsBatch")
	}
}

func TestAppendRequest(t *testing.T) {
	b, err := AppendRequest(nil, IntID(3), "sampling/createMessage", map[string]int{"maxTokens": 5})
	if err != nil || string(b) != `{"jsonrpc":"2.0","id":3,"method":"sampling/createMessage","params":{"maxTokens":5}}` {
		t.Fatalf("%s %v", b, err)
	}
	b, _ = AppendRequest(nil, ID{}, "notifications/tools/list_changed", nil)
	if string(b) != `{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}` {
		t.Fatalf("%s", b)
	}
	m, err := DecodeMessage(b)
	if err != nil || m.Kind() != KindNotification {
		t.Fatal(err)
	}
}

func TestContentMarshal(t *testing.T) {
	tests := []struct {
		c    Content
		want string
	}{
		{TextContent(""), `{"type":"text","text":""}`},
		{ImageContent("AA==", "image/png"), `{"type":"image","data":"AA==","mimeType":"image/png"}`},
		{AudioContent("AA==", "audio/wav"), `{"type":"audio","data":"AA==","mimeType":"audio/wav"}`},
		{EmbeddedResource(ResourceContents{URI: "a://b", Text: ""}), `{"type":"resource","resource":{"uri":"a://b","text":""}}`},
		{EmbeddedResource(ResourceContents{URI: "a://b", Blob: "AA=="}), `{"type":"resource","resource":{"uri":"a://b","blob":"AA=="}}`},
		{Content{Type: ContentResourceLink, URI: "a://b", Name: "n"}, `{"type":"resource_link","uri":"a://b","name":"n"}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.c)
		if err != nil || string(b) != tt.want {
			t.Errorf("got %s (%v), want %s", b, err, tt.want)
		}
		var back Content
		if err := json.Unmarshal(b, &back); err != nil || back.Type != tt.c.Type {
			t.Errorf("round trip %s: %v", b, err)
		}
	}
}

func TestNegotiateVersion(t *testing.T) {
	for in, want := range map[string]string{
		"2025-03-26": "2025-03-26", "2025-06-18": "2025-06-18", "2025-11-25": "2025-11-25",
		"2024-11-05": LatestVersion, "": LatestVersion, "2099-01-01": LatestVersion,
	} {
		if got := NegotiateVersion(in); got != want {
			t.Errorf("NegotiateVersion(%q) = %q, want %q", in, got, want)
		}
	}
	if !AllowsBatch("2025-03-26") || AllowsBatch("2025-06-18") || AllowsBatch("2025-11-25") {
		t.Error("AllowsBatch")
	}
}

func FuzzDecodeMessage(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"ping"}`,
		`{"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"name":"greet","arguments":{"name":"A"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}`,
		`{"jsonrpc":"2.0","id":1,"result":{}}`,
		`{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}`,
		`[{"jsonrpc":"2.0","id":1,"method":"ping"}]`,
		`{"jsonrpc":"2.0","id":1e400,"method":"ping"}`,
		`{"jsonrpc":"2.0","id":"\ud800","method":"ping"}`,
		`{`, `null`, `"x"`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeMessage(data)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error of type %T", err)
			}
			if de.Code != CodeParseError && de.Code != CodeInvalidRequest {
				t.Fatalf("code %d", de.Code)
			}
			// The error response must itself be valid JSON.
			id := de.ID
			if id.IsZero() {
				id = NullID
			}
			if out := AppendErrorResponse(nil, id, de.RPCError()); !json.Valid(out) {
				t.Fatalf("invalid error response %s", out)
			}
			return
		}
		if m.Kind() == KindInvalid {
			t.Fatal("decoded an invalid message without error")
		}
		if m.Kind() == KindRequest {
			out := AppendResponse(nil, m.ID, []byte(`{}`))
			if !json.Valid(out) {
				t.Fatalf("invalid response %s for %q", out, data)
			}
			back, err := DecodeMessage(out)
			if err != nil || back.ID.String() != m.ID.String() {
				t.Fatalf("id not echoed: %s -> %v %v", m.ID.String(), back, err)
			}
		}
		if IsBatch(data) {
			t.Fatal("a batch decoded as a single message")
		}
	})
}

// AppendRequestRaw writes what AppendRequest writes for the same, already
// encoded, params.
func TestAppendRequestRaw(t *testing.T) {
	for _, tc := range []struct {
		id     ID
		method string
		params []byte
	}{
		{IntID(7), "tools/call", []byte(`{"name":"greet","arguments":{"name":"Ada"}}`)},
		{ID{}, "notifications/initialized", nil},
		{IntID(1), "a \"quoted\" method", []byte(`{}`)},
	} {
		var p any
		if tc.params != nil {
			p = json.RawMessage(tc.params)
		}
		want, err := AppendRequest(nil, tc.id, tc.method, p)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendRequestRaw([]byte("x"), tc.id, tc.method, tc.params); string(got) != "x"+string(want) {
			t.Errorf("AppendRequestRaw = %s, want x%s", got, want)
		}
	}
}
