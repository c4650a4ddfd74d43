package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/itchyny/gojq"
	"github.com/spf13/cobra"

	"murmur/api"
)

// jsonOutput is what --json and --jq asked of a command's JSON output.
type jsonOutput struct {
	fields []string   // --json a,b: only these fields; nil for all
	jq     *gojq.Code // --jq EXPR, compiled
	jqText string     // the expression as given
}

// jsonValue is the --json flag: bare it selects every field, with a
// value (--json=a,b or --json a,b) only those.
type jsonValue struct {
	on  *bool
	out *jsonOutput
}

func (v *jsonValue) String() string { return "" }
func (v *jsonValue) Type() string   { return "fields" }
func (v *jsonValue) Set(s string) error {
	*v.on = true
	if s == allFields {
		v.out.fields = nil
		return nil
	}
	v.out.fields = nil
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			v.out.fields = append(v.out.fields, f)
		}
	}
	return nil
}

// allFields is the value of a bare --json.
const allFields = "*"

// addJSONFlags adds --json [FIELDS] and --jq EXPR to c; either sets *on.
func (a *app) addJSONFlags(c *cobra.Command, on *bool, usage string) {
	f := c.Flags().VarPF(&jsonValue{on: on, out: &a.json}, "json", "", usage+"; --json a,b prints only those `FIELDS`")
	f.NoOptDefVal = allFields
	c.Flags().Var(&jqValue{on: on, out: &a.json}, "jq", "filter the JSON output with a jq `EXPR` (implies --json)")
}

// jqValue is the --jq flag.
type jqValue struct {
	on  *bool
	out *jsonOutput
}

func (v *jqValue) String() string { return v.out.jqText }
func (v *jqValue) Type() string   { return "string" }
func (v *jqValue) Set(s string) error {
	q, err := gojq.Parse(s)
	if err != nil {
		return fmt.Errorf("--jq %q: %v", s, err)
	}
	code, err := gojq.Compile(q)
	if err != nil {
		return fmt.Errorf("--jq %q: %v", s, err)
	}
	*v.on = true
	v.out.jq, v.out.jqText = code, s
	return nil
}

// shaped reports whether the output needs selecting or filtering.
func (j *jsonOutput) shaped() bool { return j.fields != nil || j.jq != nil }

// printShaped prints v (a struct or a slice of structs) with only the
// selected fields, then through the jq filter if one was given.
func (a *app) printShaped(v any) error {
	doc, err := a.json.selectFields(v)
	if err != nil {
		return err
	}
	if a.json.jq == nil {
		enc := json.NewEncoder(&a.out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(doc)
	}
	iter := a.json.jq.Run(doc)
	for {
		r, ok := iter.Next()
		if !ok {
			return nil
		}
		if err, isErr := r.(error); isErr {
			return &usageError{msg: fmt.Sprintf("--jq %q: %v", a.json.jqText, err)}
		}
		if s, isString := r.(string); isString {
			fmt.Fprintln(&a.out, s) // strings print raw, as gh and jq -r do
			continue
		}
		b, err := gojq.Marshal(r)
		if err != nil {
			return fmt.Errorf("encode json: %w", err)
		}
		a.out.Write(b)
		a.out.WriteString("\n")
	}
}

// selectFields converts v to plain JSON values (what jq works on),
// keeping only the selected fields of each object.
func (j *jsonOutput) selectFields(v any) (any, error) {
	if j.fields != nil {
		valid := jsonFieldNames(elemType(reflect.TypeOf(v)))
		for _, f := range j.fields {
			if !slices.Contains(valid, f) {
				return nil, &usageError{msg: fmt.Sprintf("unknown JSON field %q; available fields: %s", f, strings.Join(valid, ", "))}
			}
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode json: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("encode json: %w", err)
	}
	doc = normalizeNumbers(doc)
	if j.fields == nil {
		return doc, nil
	}
	pick := func(o any) any {
		m, ok := o.(map[string]any)
		if !ok {
			return o
		}
		out := make(map[string]any, len(j.fields))
		for _, f := range j.fields {
			out[f] = m[f] // a field left out by omitempty prints as null
		}
		return out
	}
	if list, ok := doc.([]any); ok {
		for i := range list {
			list[i] = pick(list[i])
		}
		return list, nil
	}
	return pick(doc), nil
}

// normalizeNumbers turns json.Numbers into the int or float64 values
// gojq works with.
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return int(i)
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = normalizeNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = normalizeNumbers(x[k])
		}
	}
	return v
}

// elemType is the struct type of a value or of a slice's elements.
func elemType(t reflect.Type) reflect.Type {
	for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice) {
		t = t.Elem()
	}
	return t
}

// jsonFieldNames lists the JSON names of a struct type's fields,
// including those of embedded structs, sorted.
func jsonFieldNames(t reflect.Type) []string {
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			names = append(names, jsonFieldNames(elemType(f.Type))...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// knownFields is every JSON field name of what commands print; it tells
// "--json title,state" (fields) from "--json 3f2a" (a positional ID).
var knownFields = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, v := range []any{api.Identity{}, api.Repo{}, api.Ref{}, api.IssueSummary{}, api.Issue{},
		api.Comment{}, api.PatchSummary{}, api.Patch{}, api.Review{}, api.Revision{}, api.Status{},
		api.SyncResult{}, api.FollowResult{}, api.Peer{}, api.RepoSync{}, versionInfo{}} {
		for _, n := range jsonFieldNames(reflect.TypeOf(v)) {
			m[n] = true
		}
	}
	return m
})

var fieldListRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(,[A-Za-z_][A-Za-z0-9_]*)*$`)

// joinJSONFieldArgs rewrites "--json a,b" as "--json=a,b" when a,b are
// a list (it has a comma; IDs never do) or one known field name, as gh's
// --json takes its fields as the next word; a bare --json before
// anything else still means every field.
func joinJSONFieldArgs(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		if args[i] == "--" {
			return append(out, args[i:]...)
		}
		if args[i] == "--json" && i+1 < len(args) && fieldListRE.MatchString(args[i+1]) &&
			(strings.Contains(args[i+1], ",") || knownFields()[args[i+1]]) {
			out = append(out, "--json="+args[i+1])
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}
