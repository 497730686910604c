// Package sample ships a small synthetic Amazon Bedrock model-invocation
// log (about 3000 ModelInvocationLog 1.0 records over the 7 UTC days
// ending LastDay, several models, regions, users and operations) so the
// usage report can be tried without AWS access. The data is generated
// deterministically by ./gen.
//
// The sample covers fixed past days, so a report over it must anchor its
// window at the sample's end (End) rather than at the current time:
//
//	end := sample.End()
//	w := bedrock.Window{Start: end.AddDate(0, 0, -days), End: end}
//
// Package sample imports bedrock; bedrock must not import sample.
package sample

//go:generate go run ./gen -out data

import (
	"context"
	"embed"
	"sync"
	"time"

	"mcplambda/bedrock"
)

// LastDay is the last UTC day covered by the sample (the generator's
// default -end).
const LastDay = "2026-11-24"

//go:embed data
var data embed.FS

// Source returns a FileSource reading the embedded sample (gzipped JSON
// Lines). Each call returns a new FileSource.
func Source() *bedrock.FileSource {
	return &bedrock.FileSource{FS: data, Root: "data"}
}

var newest = sync.OnceValue(func() time.Time {
	var t time.Time
	_ = Source().Read(context.Background(), bedrock.Window{}, func(msg []byte) error {
		if r, err := bedrock.DecodeRecord(msg); err == nil && r.Timestamp.After(t) {
			t = r.Timestamp
		}
		return nil
	}, nil)
	return t.UTC()
})

// Newest returns the timestamp of the newest record in the sample (found
// by scanning the data once, on first use).
func Newest() time.Time { return newest() }

// End returns the exclusive end of the sample's last UTC day (midnight
// after Newest): the time to anchor a report window at instead of now.
// If the data were unreadable it falls back to the day after LastDay.
func End() time.Time {
	t := Newest()
	if t.IsZero() {
		d, _ := time.Parse("2006-01-02", LastDay)
		return d.AddDate(0, 0, 1)
	}
	return t.Truncate(24*time.Hour).AddDate(0, 0, 1)
}
