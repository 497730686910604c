package bedrock

import (
	"strconv"
	"strings"
	"time"
)

// Text renders the usage report in the original product's layout, extended
// with cache-token counts.
func (a *Aggregator) Text(days int, region string) string {
	var b strings.Builder
	b.WriteString("Bedrock Daily Usage Report (Past ")
	b.WriteString(strconv.Itoa(days))
	b.WriteString(" days - ")
	b.WriteString(region)
	b.WriteString(")\n")
	if a.overall.Requests == 0 {
		b.WriteString("No model invocations found in this window.\n")
	} else {
		t := a.overall
		line := func(name string, v int64) {
			b.WriteString(name)
			b.WriteString(": ")
			b.WriteString(strconv.FormatInt(v, 10))
			b.WriteByte('\n')
		}
		line("Total Requests", t.Requests)
		line("Total Input Tokens", t.InputTokens)
		line("Total Completion Tokens", t.OutputTokens)
		line("Total Tokens", t.Total())
		line("Total Cache Read Tokens", t.CacheReadTokens)
		line("Total Cache Write Tokens", t.CacheWriteTokens)
		b.WriteByte('\n')
		section := func(title string, gs []Group) {
			b.WriteString("--- ")
			b.WriteString(title)
			b.WriteString(" ---\n")
			for _, g := range gs {
				writeGroupLine(&b, g)
			}
		}
		section("Daily Totals", a.Daily())
		section("Region Summary", a.Regions())
		section("Model Summary", a.ModelsByDisplayName())
		section("User Summary", a.Users())
		section("Operation Summary", a.Operations())
	}
	if a.malformed > 0 {
		b.WriteString("Malformed records skipped: ")
		b.WriteString(strconv.FormatInt(a.malformed, 10))
		if len(a.samples) > 0 {
			b.WriteString(" (e.g. ")
			b.WriteString(a.samples[0])
			b.WriteString(")")
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func writeGroupLine(b *strings.Builder, g Group) {
	b.WriteString(g.Key)
	b.WriteString(": Requests=")
	b.WriteString(strconv.FormatInt(g.Requests, 10))
	b.WriteString(", Input=")
	b.WriteString(strconv.FormatInt(g.InputTokens, 10))
	b.WriteString(", Completion=")
	b.WriteString(strconv.FormatInt(g.OutputTokens, 10))
	b.WriteString(", Total=")
	b.WriteString(strconv.FormatInt(g.Total(), 10))
	b.WriteString(", CacheRead=")
	b.WriteString(strconv.FormatInt(g.CacheReadTokens, 10))
	b.WriteString(", CacheWrite=")
	b.WriteString(strconv.FormatInt(g.CacheWriteTokens, 10))
	b.WriteByte('\n')
}

// ReportTotals is the token and request count block of a Report.
type ReportTotals struct {
	Requests         int64 `json:"requests"`
	InputTokens      int64 `json:"input_tokens"`
	OutputTokens     int64 `json:"output_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
	CacheReadTokens  int64 `json:"cache_read_tokens"`
	CacheWriteTokens int64 `json:"cache_write_tokens"`
}

func reportTotals(t Totals) ReportTotals {
	return ReportTotals{
		Requests: t.Requests, InputTokens: t.InputTokens, OutputTokens: t.OutputTokens,
		TotalTokens: t.Total(), CacheReadTokens: t.CacheReadTokens, CacheWriteTokens: t.CacheWriteTokens,
	}
}

// DailyUsage is one UTC day of a Report.
type DailyUsage struct {
	Date string `json:"date"`
	ReportTotals
}

// RegionUsage is one region of a Report.
type RegionUsage struct {
	Region string `json:"region"`
	ReportTotals
}

// ModelUsage is one model (by full id) of a Report.
type ModelUsage struct {
	ModelID     string `json:"model_id"`
	DisplayName string `json:"display_name"`
	ReportTotals
}

// UserUsage is one caller identity of a Report.
type UserUsage struct {
	IdentityARN string `json:"identity_arn"`
	ReportTotals
}

// OperationUsage is one API operation of a Report.
type OperationUsage struct {
	Operation string `json:"operation"`
	ReportTotals
}

// Report is the structured (JSON) form of the usage report; it conforms to
// ReportOutputSchema.
type Report struct {
	Region           string           `json:"region"`
	Days             int              `json:"days"`
	WindowStart      string           `json:"window_start"` // RFC 3339, UTC
	WindowEnd        string           `json:"window_end"`   // RFC 3339, UTC
	Totals           ReportTotals     `json:"totals"`
	Daily            []DailyUsage     `json:"daily"`
	Regions          []RegionUsage    `json:"regions"`
	Models           []ModelUsage     `json:"models"`
	Users            []UserUsage      `json:"users"`
	Operations       []OperationUsage `json:"operations"`
	MalformedRecords int64            `json:"malformed_records"`
	MalformedSamples []string         `json:"malformed_samples"`
	// Truncated lists the dimensions cut to their top groups (Logs
	// Insights returns at most 10,000 rows a query); Totals still count
	// every record.
	Truncated []TruncatedDimension `json:"truncated,omitempty"`
	// Scan says where the figures come from and what reading them took.
	Scan *ReportScan `json:"scan,omitempty"`
}

// TruncatedDimension is a dimension of which only the top GroupsShown
// groups (by total tokens) are listed.
type TruncatedDimension struct {
	Dimension   string `json:"dimension"`
	GroupsShown int    `json:"groups_shown"`
}

// ReportScan describes how a report was computed: Source is
// "logs-insights", "filter-log-events", "s3", "file" or "sample". For Logs
// Insights, BytesScanned is what CloudWatch bills for (per GB scanned,
// summed over Queries); for the others it is the bytes of records read.
type ReportScan struct {
	Source         string `json:"source"`
	Queries        int    `json:"queries,omitempty"`
	RecordsScanned int64  `json:"records_scanned"`
	BytesScanned   int64  `json:"bytes_scanned"`
}

// Structured returns the report as a JSON-serialisable value. Models are
// listed per full model id (with their display name); the text report
// merges ids that share a display name.
func (a *Aggregator) Structured(days int, region string, windowStart, windowEnd time.Time) Report {
	r := Report{
		Region:           region,
		Days:             days,
		WindowStart:      windowStart.UTC().Format(time.RFC3339),
		WindowEnd:        windowEnd.UTC().Format(time.RFC3339),
		Totals:           reportTotals(a.overall),
		Daily:            []DailyUsage{},
		Regions:          []RegionUsage{},
		Models:           []ModelUsage{},
		Users:            []UserUsage{},
		Operations:       []OperationUsage{},
		MalformedRecords: a.malformed,
		MalformedSamples: append([]string{}, a.samples...),
	}
	for _, g := range a.Daily() {
		r.Daily = append(r.Daily, DailyUsage{g.Key, reportTotals(g.Totals)})
	}
	for _, g := range a.Regions() {
		r.Regions = append(r.Regions, RegionUsage{g.Key, reportTotals(g.Totals)})
	}
	for _, g := range a.Models() {
		r.Models = append(r.Models, ModelUsage{g.Key, ShortModelID(g.Key), reportTotals(g.Totals)})
	}
	for _, g := range a.Users() {
		r.Users = append(r.Users, UserUsage{g.Key, reportTotals(g.Totals)})
	}
	for _, g := range a.Operations() {
		r.Operations = append(r.Operations, OperationUsage{g.Key, reportTotals(g.Totals)})
	}
	return r
}

// ReportOutputSchema is a JSON Schema (2020-12) for the JSON encoding of
// Report, suitable as an MCP tool outputSchema.
const ReportOutputSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "$defs": {
    "count": {"type": "integer", "minimum": 0},
    "totals": {
      "type": "object",
      "properties": {
        "requests": {"$ref": "#/$defs/count"},
        "input_tokens": {"$ref": "#/$defs/count"},
        "output_tokens": {"$ref": "#/$defs/count"},
        "total_tokens": {"$ref": "#/$defs/count"},
        "cache_read_tokens": {"$ref": "#/$defs/count"},
        "cache_write_tokens": {"$ref": "#/$defs/count"}
      },
      "required": ["requests", "input_tokens", "output_tokens", "total_tokens", "cache_read_tokens", "cache_write_tokens"]
    }
  },
  "properties": {
    "region": {"type": "string"},
    "days": {"type": "integer", "minimum": 0},
    "window_start": {"type": "string", "format": "date-time"},
    "window_end": {"type": "string", "format": "date-time"},
    "totals": {"$ref": "#/$defs/totals", "unevaluatedProperties": false},
    "daily": {"type": "array", "items": {"$ref": "#/$defs/totals", "unevaluatedProperties": false,
      "properties": {"date": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}}, "required": ["date"]}},
    "regions": {"type": "array", "items": {"$ref": "#/$defs/totals", "unevaluatedProperties": false,
      "properties": {"region": {"type": "string"}}, "required": ["region"]}},
    "models": {"type": "array", "items": {"$ref": "#/$defs/totals", "unevaluatedProperties": false,
      "properties": {"model_id": {"type": "string"}, "display_name": {"type": "string"}}, "required": ["model_id", "display_name"]}},
    "users": {"type": "array", "items": {"$ref": "#/$defs/totals", "unevaluatedProperties": false,
      "properties": {"identity_arn": {"type": "string"}}, "required": ["identity_arn"]}},
    "operations": {"type": "array", "items": {"$ref": "#/$defs/totals", "unevaluatedProperties": false,
      "properties": {"operation": {"type": "string"}}, "required": ["operation"]}},
    "malformed_records": {"$ref": "#/$defs/count"},
    "malformed_samples": {"type": "array", "items": {"type": "string"}, "maxItems": 10},
    "truncated": {"type": "array", "items": {"type": "object", "additionalProperties": false,
      "properties": {"dimension": {"enum": ["daily", "regions", "models", "users", "operations"]}, "groups_shown": {"$ref": "#/$defs/count"}},
      "required": ["dimension", "groups_shown"]}},
    "scan": {"type": "object", "additionalProperties": false,
      "properties": {"source": {"type": "string"}, "queries": {"$ref": "#/$defs/count"},
        "records_scanned": {"$ref": "#/$defs/count"}, "bytes_scanned": {"$ref": "#/$defs/count"}},
      "required": ["source", "records_scanned", "bytes_scanned"]}
  },
  "required": ["region", "days", "window_start", "window_end", "totals", "daily", "regions", "models", "users", "operations", "malformed_records", "malformed_samples"],
  "additionalProperties": false
}`
