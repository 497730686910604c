package repl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// field is one property of an object schema (a tool's arguments, an
// elicitation form), in the order the schema lists them.
type field struct {
	Name     string
	Required bool
	fieldSchema
}

type fieldSchema struct {
	Type        json.RawMessage `json:"type"` // a name or a list of names
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Enum        []any           `json:"enum"`
	EnumNames   []string        `json:"enumNames"` // legacy titles of enum values
	OneOf       []struct {
		Const any    `json:"const"`
		Title string `json:"title"`
	} `json:"oneOf"`
	Default   any          `json:"default"`
	Minimum   *float64     `json:"minimum"`
	Maximum   *float64     `json:"maximum"`
	MinLength *int         `json:"minLength"`
	MaxLength *int         `json:"maxLength"`
	MinItems  *int         `json:"minItems"`
	MaxItems  *int         `json:"maxItems"`
	Format    string       `json:"format"`
	Items     *fieldSchema `json:"items"`
}

// typeName is the schema's type ("string" ...), the first non-null one of a
// list, or "" when absent.
func (s *fieldSchema) typeName() string {
	if len(s.Type) == 0 {
		if len(s.Enum) > 0 || len(s.OneOf) > 0 {
			return "string"
		}
		return ""
	}
	var one string
	if json.Unmarshal(s.Type, &one) == nil {
		return one
	}
	var many []string
	if json.Unmarshal(s.Type, &many) == nil {
		for _, t := range many {
			if t != "null" {
				return t
			}
		}
	}
	return ""
}

// choice is an allowed value with its display title.
type choice struct {
	Value any
	Title string
}

// choices lists the enumerated values: enum (with enumNames), or oneOf of
// consts, the titled form of MCP 2025-11-25; nil when the field is free.
func (s *fieldSchema) choices() []choice {
	var out []choice
	for i, v := range s.Enum {
		c := choice{Value: v}
		if i < len(s.EnumNames) {
			c.Title = s.EnumNames[i]
		}
		out = append(out, c)
	}
	for _, o := range s.OneOf {
		if o.Const != nil {
			out = append(out, choice{Value: o.Const, Title: o.Title})
		}
	}
	return out
}

// schemaFields reads the properties of an object schema in document order
// (encoding/json's maps would shuffle them, and a form asks in order).
func schemaFields(raw json.RawMessage) ([]field, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	var top struct {
		Properties json.RawMessage `json:"properties"`
		Required   []string        `json:"required"`
	}
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	if len(top.Properties) == 0 || string(top.Properties) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(top.Properties))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("schema: properties is not an object")
	}
	var fields []field
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("schema: %w", err)
		}
		name, _ := t.(string)
		var fs fieldSchema
		if err := dec.Decode(&fs); err != nil {
			return nil, fmt.Errorf("schema: property %q: %w", name, err)
		}
		fields = append(fields, field{Name: name, Required: slices.Contains(top.Required, name), fieldSchema: fs})
	}
	return fields, nil
}

// describe renders a field for a person: `name (string, required): Name to greet`.
func (f field) describe() string {
	var b strings.Builder
	b.WriteString(sanitize(f.Name))
	var attrs []string
	if t := f.typeName(); t != "" {
		if t == "array" && f.Items != nil && len(f.Items.choices()) > 0 {
			t = "list of " + choiceList(f.Items.choices())
		} else if cs := f.choices(); len(cs) > 0 {
			t = "one of " + choiceList(cs)
		}
		attrs = append(attrs, t)
	}
	if f.Required {
		attrs = append(attrs, "required")
	}
	if f.Format != "" {
		attrs = append(attrs, "format "+sanitize(f.Format))
	}
	switch {
	case f.Minimum != nil && f.Maximum != nil:
		attrs = append(attrs, num(*f.Minimum)+".."+num(*f.Maximum))
	case f.Minimum != nil:
		attrs = append(attrs, ">= "+num(*f.Minimum))
	case f.Maximum != nil:
		attrs = append(attrs, "<= "+num(*f.Maximum))
	}
	if f.Default != nil {
		attrs = append(attrs, "default "+compactJSON(f.Default))
	}
	if len(attrs) > 0 {
		b.WriteString(" (" + strings.Join(attrs, ", ") + ")")
	}
	desc := f.Description
	if f.Title != "" && f.Title != f.Name {
		desc = strings.TrimSpace(f.Title + ". " + desc)
	}
	if desc != "" {
		b.WriteString(": " + sanitize(desc))
	}
	return b.String()
}

func choiceList(cs []choice) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = valueText(c.Value)
		if c.Title != "" && c.Title != parts[i] {
			parts[i] += " (" + sanitize(c.Title) + ")"
		}
	}
	return strings.Join(parts, ", ")
}

// valueText shows a JSON value: strings bare, anything else as JSON.
func valueText(v any) string {
	if s, ok := v.(string); ok {
		return sanitize(s)
	}
	return compactJSON(v)
}

func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return sanitize(string(b))
}
