package mcp

import "testing"

// BenchmarkDecodeMessage is a tools/call request as the server receives it.
func BenchmarkDecodeMessage(b *testing.B) {
	data := []byte(`{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"greet","arguments":` +
		`{"name":"Alice","days":3,"items":[{"id":"a"},{"id":"b"}],"note":"caf\u00e9 \"quoted\"","ok":true,"x":null},` +
		`"_meta":{"progressToken":"t-1"}}}`)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeMessage(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeBatch is a batch of three messages.
func BenchmarkDecodeBatch(b *testing.B) {
	data := []byte(`[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"},` +
		`{"jsonrpc":"2.0","id":"r1","result":{"content":[{"type":"text","text":"hello"}]}}]`)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := DecodeBatch(data); err != nil {
			b.Fatal(err)
		}
	}
}
