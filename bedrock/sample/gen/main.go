// Command gen writes the synthetic Amazon Bedrock model-invocation log
// sample (schemaType "ModelInvocationLog", schemaVersion "1.0") embedded by
// package sample. The output is deterministic: a fixed random seed, a
// fixed end date and a gzip stream without a modification time.
//
// Usage (from bedrock/sample, see the go:generate line in sample.go):
//
//	go run ./gen -out data [-days 7] [-end 2026-11-24] [-n 3000]
package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// defaultEnd is the last UTC day of the sample; package sample's LastDay
// must match it.
const defaultEnd = "2026-11-24"

const (
	account  = "123456789012"
	seed1    = 20261124
	seed2    = 0xbed20c
	fileName = "invocations.jsonl.gz"
)

type model struct {
	id     string // modelId as logged; "%s" is replaced by the region
	family string // "claude", "nova", "llama", "titan-embed"
	weight int
	// typical input/output token ranges
	inMin, inMax, outMin, outMax int
	cache                        bool
}

var models = []model{
	{"anthropic.claude-3-5-sonnet-20240620-v1:0", "claude", 22, 400, 6000, 80, 1500, true},
	{"anthropic.claude-3-haiku-20240307-v1:0", "claude", 26, 150, 3000, 30, 700, true},
	{"amazon.nova-lite-v1:0", "nova", 18, 100, 2500, 20, 600, false},
	{"us.amazon.nova-pro-v1:0", "nova", 10, 300, 5000, 60, 1200, false},
	{"arn:aws:bedrock:%s:" + account + ":inference-profile/us.meta.llama3-1-70b-instruct-v1:0", "llama", 8, 200, 3500, 50, 900, false},
	{"amazon.titan-embed-text-v2:0", "titan-embed", 16, 8, 512, 0, 0, false},
}

var regions = []struct {
	name   string
	weight int
}{{"us-east-1", 60}, {"us-west-2", 30}, {"eu-west-1", 10}}

var users = []struct {
	arn    string
	weight int
}{
	{"arn:aws:sts::" + account + ":assumed-role/BedrockChatBackend/chat-api", 34},
	{"arn:aws:sts::" + account + ":assumed-role/DataScience/alice", 16},
	{"arn:aws:sts::" + account + ":assumed-role/DataScience/bob", 12},
	{"arn:aws:iam::" + account + ":user/carol", 10},
	{"arn:aws:iam::" + account + ":user/ci-pipeline", 8},
	{"arn:aws:sts::" + account + ":assumed-role/RagIndexer/doc-indexer", 20},
}

var prompts = []string{
	"Summarize the attached incident report in three bullet points.",
	"Write a SQL query that returns the top 10 customers by revenue last month.",
	"Translate the following product description into German.",
	"Explain the difference between a mutex and a semaphore.",
	"Draft a polite reply declining the meeting invitation.",
	"Classify this support ticket as billing, technical or account.",
	"Extract the invoice number, date and total from the text below.",
	"Suggest unit tests for the function below.",
	"What are the main risks in this contract clause?",
	"Rewrite this paragraph to be more concise.",
}

var answers = []string{
	"Here is a concise summary of the key points.",
	"Sure. The query below groups orders by customer and sorts by total.",
	"Hier ist die übersetzte Produktbeschreibung.",
	"A mutex allows one holder at a time; a semaphore allows up to N.",
	"Thank you for the invitation; unfortunately I cannot attend.",
	"Category: billing.",
	"Invoice INV-20931, dated 2026-10-02, total 1,240.00 EUR.",
	"Consider testing the empty input, a single element and duplicates.",
	"The indemnity clause is unusually broad and uncapped.",
	"Here is a shorter version of the paragraph.",
}

var docs = []string{
	"Quarterly security review: MFA enforced for all admin roles.",
	"Runbook: restart the ingestion worker if the queue depth exceeds 10k.",
	"Onboarding guide for the data platform team.",
	"Release notes for version 4.2 of the billing service.",
	"FAQ: how to request access to the analytics warehouse.",
}

type identity struct {
	ARN string `json:"arn"`
}

type input struct {
	InputContentType string `json:"inputContentType"`
	InputBodyJSON    any    `json:"inputBodyJson"`
	InputTokenCount  int    `json:"inputTokenCount"`
	CacheRead        *int   `json:"cacheReadInputTokenCount,omitempty"`
	CacheWrite       *int   `json:"cacheWriteInputTokenCount,omitempty"`
}

type output struct {
	OutputContentType string `json:"outputContentType"`
	OutputBodyJSON    any    `json:"outputBodyJson"`
	OutputTokenCount  int    `json:"outputTokenCount"`
}

type record struct {
	SchemaType    string   `json:"schemaType"`
	SchemaVersion string   `json:"schemaVersion"`
	Timestamp     string   `json:"timestamp"`
	AccountID     string   `json:"accountId"`
	Identity      identity `json:"identity"`
	Region        string   `json:"region"`
	RequestID     string   `json:"requestId"`
	Operation     string   `json:"operation"`
	ModelID       string   `json:"modelId"`
	Input         input    `json:"input"`
	Output        output   `json:"output"`
	ts            time.Time
}

type obj = map[string]any

func main() {
	out := flag.String("out", "data", "output directory")
	days := flag.Int("days", 7, "number of days")
	endFlag := flag.String("end", defaultEnd, "last UTC day (YYYY-MM-DD)")
	n := flag.Int("n", 3000, "number of records")
	flag.Parse()
	end, err := time.Parse("2006-01-02", *endFlag)
	if err != nil {
		log.Fatalf("gen: -end: %v", err)
	}
	if *days < 1 || *n < 1 {
		log.Fatal("gen: -days and -n must be positive")
	}
	recs := generate(rand.New(rand.NewPCG(seed1, seed2)), end, *days, *n)
	if err := write(filepath.Join(*out, fileName), recs); err != nil {
		log.Fatal(err)
	}
}

func pick[T any](r *rand.Rand, items []T, weight func(T) int) T {
	total := 0
	for _, it := range items {
		total += weight(it)
	}
	x := r.IntN(total)
	for _, it := range items {
		if x -= weight(it); x < 0 {
			return it
		}
	}
	return items[len(items)-1]
}

// hourWeights is a working-day profile (UTC), busiest mid-day.
var hourWeights = []int{2, 1, 1, 1, 1, 2, 3, 5, 8, 11, 12, 12, 11, 12, 13, 13, 12, 10, 8, 6, 5, 4, 3, 2}

// between returns a value in [lo, hi], skewed towards lo (log-uniformish).
func between(r *rand.Rand, lo, hi int) int {
	if hi <= lo {
		return lo
	}
	f := r.Float64()
	return lo + int(f*f*float64(hi-lo))
}

func generate(r *rand.Rand, end time.Time, days, n int) []record {
	first := end.AddDate(0, 0, -(days - 1))
	dayWeights := make([]int, days)
	for i := range dayWeights {
		d := first.AddDate(0, 0, i)
		w := 10 + r.IntN(4)
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			w = 3 + r.IntN(2)
		}
		dayWeights[i] = w
	}
	idx := make([]int, days)
	for i := range idx {
		idx[i] = i
	}
	hours := make([]int, 24)
	for i := range hours {
		hours[i] = i
	}
	recs := make([]record, 0, n)
	for range n {
		day := pick(r, idx, func(i int) int { return dayWeights[i] })
		hour := pick(r, hours, func(h int) int { return hourWeights[h] })
		ts := first.AddDate(0, 0, day).Add(time.Duration(hour)*time.Hour +
			time.Duration(r.IntN(3600*1000))*time.Millisecond)
		recs = append(recs, makeRecord(r, ts))
	}
	slices.SortStableFunc(recs, func(a, b record) int { return a.ts.Compare(b.ts) })
	return recs
}

func uuid(r *rand.Rand) string {
	a, b := r.Uint64(), r.Uint64()
	a = a&^0xf000 | 0x4000     // version 4
	b = b&^(0xc<<60) | 0x8<<60 // variant 10
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x",
		a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

func makeRecord(r *rand.Rand, ts time.Time) record {
	m := pick(r, models, func(m model) int { return m.weight })
	region := pick(r, regions, func(x struct {
		name   string
		weight int
	}) int {
		return x.weight
	}).name
	var user string
	if m.family == "titan-embed" {
		// Embeddings come mostly from the indexer.
		if r.IntN(10) < 8 {
			user = users[len(users)-1].arn
		} else {
			user = users[r.IntN(3)+1].arn
		}
	} else {
		user = pick(r, users[:len(users)-1], func(u struct {
			arn    string
			weight int
		}) int {
			return u.weight
		}).arn
	}
	id := m.id
	if m.family == "llama" {
		id = fmt.Sprintf(m.id, region)
	}
	var op string
	switch m.family {
	case "titan-embed":
		op = "InvokeModel"
	default:
		op = []string{"Converse", "Converse", "ConverseStream", "ConverseStream", "InvokeModel", "InvokeModelWithResponseStream"}[r.IntN(6)]
	}
	in := between(r, m.inMin, m.inMax)
	out := between(r, m.outMin, m.outMax)
	rec := record{
		SchemaType: "ModelInvocationLog", SchemaVersion: "1.0",
		Timestamp: ts.UTC().Format("2006-01-02T15:04:05Z"), ts: ts,
		AccountID: account, Identity: identity{user}, Region: region,
		RequestID: uuid(r), Operation: op, ModelID: id,
	}
	rec.Input = input{InputContentType: "application/json", InputTokenCount: in}
	rec.Output = output{OutputContentType: "application/json", OutputTokenCount: out}
	if m.cache && r.IntN(10) < 3 {
		// Prompt caching: a long system prompt read from (or written to)
		// the cache.
		if r.IntN(4) == 0 {
			w := 1024 + r.IntN(3000)
			rec.Input.CacheWrite = &w
		} else {
			c := 1024 + r.IntN(6000)
			rec.Input.CacheRead = &c
		}
	}
	p := r.IntN(len(prompts))
	prompt, answer := prompts[p], answers[p]
	latency := 200 + out*(8+r.IntN(12)) + r.IntN(400)
	stream := op == "ConverseStream" || op == "InvokeModelWithResponseStream"
	maxTokens := []int{512, 1024, 2048, 4096}[r.IntN(4)]
	switch {
	case m.family == "titan-embed":
		rec.Input.InputBodyJSON = obj{"inputText": docs[r.IntN(len(docs))], "dimensions": 256, "normalize": true}
		emb := make([]float64, 4)
		for i := range emb {
			emb[i] = float64(r.IntN(2000)-1000) / 10000
		}
		rec.Output.OutputBodyJSON = obj{"embedding": emb, "inputTextTokenCount": in}
	case op == "Converse" || op == "ConverseStream":
		rec.Input.InputBodyJSON = obj{
			"messages":        []obj{{"role": "user", "content": []obj{{"text": prompt}}}},
			"inferenceConfig": obj{"maxTokens": maxTokens, "temperature": 0.5},
		}
		usage := obj{"inputTokens": in, "outputTokens": out, "totalTokens": in + out}
		if stream {
			rec.Output.OutputBodyJSON = []obj{
				{"messageStart": obj{"role": "assistant"}},
				{"contentBlockDelta": obj{"delta": obj{"text": answer}, "contentBlockIndex": 0}},
				{"messageStop": obj{"stopReason": "end_turn"}},
				{"metadata": obj{"usage": usage, "metrics": obj{"latencyMs": latency}}},
			}
		} else {
			rec.Output.OutputBodyJSON = obj{
				"output":     obj{"message": obj{"role": "assistant", "content": []obj{{"text": answer}}}},
				"stopReason": "end_turn", "usage": usage, "metrics": obj{"latencyMs": latency},
			}
		}
	case m.family == "claude":
		rec.Input.InputBodyJSON = obj{
			"anthropic_version": "bedrock-2023-05-31", "max_tokens": maxTokens,
			"messages": []obj{{"role": "user", "content": prompt}},
		}
		usage := obj{"input_tokens": in, "output_tokens": out}
		if stream {
			rec.Output.OutputBodyJSON = []obj{
				{"type": "message_start", "message": obj{"role": "assistant", "usage": obj{"input_tokens": in}}},
				{"type": "content_block_delta", "index": 0, "delta": obj{"type": "text_delta", "text": answer}},
				{"type": "message_delta", "delta": obj{"stop_reason": "end_turn"}, "usage": obj{"output_tokens": out}},
				{"type": "message_stop"},
			}
		} else {
			rec.Output.OutputBodyJSON = obj{
				"type": "message", "role": "assistant", "content": []obj{{"type": "text", "text": answer}},
				"stop_reason": "end_turn", "usage": usage,
			}
		}
	case m.family == "nova":
		rec.Input.InputBodyJSON = obj{
			"schemaVersion":   "messages-v1",
			"messages":        []obj{{"role": "user", "content": []obj{{"text": prompt}}}},
			"inferenceConfig": obj{"maxTokens": maxTokens},
		}
		usage := obj{"inputTokens": in, "outputTokens": out}
		if stream {
			rec.Output.OutputBodyJSON = []obj{
				{"contentBlockDelta": obj{"delta": obj{"text": answer}, "contentBlockIndex": 0}},
				{"messageStop": obj{"stopReason": "end_turn"}},
				{"metadata": obj{"usage": usage}},
			}
		} else {
			rec.Output.OutputBodyJSON = obj{
				"output":     obj{"message": obj{"role": "assistant", "content": []obj{{"text": answer}}}},
				"stopReason": "end_turn", "usage": usage,
			}
		}
	default: // llama
		rec.Input.InputBodyJSON = obj{
			"prompt":      "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n" + prompt + "<|eot_id|>",
			"max_gen_len": maxTokens, "temperature": 0.5,
		}
		if stream {
			rec.Output.OutputBodyJSON = []obj{
				{"generation": answer, "prompt_token_count": in, "generation_token_count": 0, "stop_reason": nil},
				{"generation": "", "prompt_token_count": nil, "generation_token_count": out, "stop_reason": "stop"},
			}
		} else {
			rec.Output.OutputBodyJSON = obj{
				"generation": answer, "prompt_token_count": in, "generation_token_count": out, "stop_reason": "stop",
			}
		}
	}
	return rec
}

func write(name string, recs []record) (err error) {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	bw := bufio.NewWriter(f)
	zw, err := gzip.NewWriterLevel(bw, gzip.BestCompression)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(zw) // one record per line
	enc.SetEscapeHTML(false)
	for i := range recs {
		if err := enc.Encode(&recs[i]); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}
