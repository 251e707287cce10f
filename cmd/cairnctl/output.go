package main

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// column is a column of a table: a header and a dotted path into each row.
type column struct{ head, path string }

// emit prints v (decoded JSON) in the output format. In table format, a
// list (a connection with nodes) prints one row per node with cols; any
// other value prints as FIELD VALUE lines.
func (a *app) emit(v any, cols []column) error {
	switch a.g.output {
	case "json":
		return writeJSON(a.stdout, v)
	case "yaml":
		var b strings.Builder
		writeYAML(&b, v, 0)
		_, err := io.WriteString(a.stdout, b.String())
		return err
	}
	if conn, ok := v.(map[string]any); ok && cols != nil {
		if nodes, ok := conn["nodes"].([]any); ok {
			writeTable(a.stdout, cols, nodes)
			if pi, _ := conn["pageInfo"].(map[string]any); pi != nil && pi["hasNextPage"] == true {
				fmt.Fprintf(a.stderr, "(%d of %v shown; pass --after %v for more, or --all)\n", len(nodes), conn["totalCount"], pi["endCursor"])
			}
			return nil
		}
	}
	writeFields(a.stdout, v)
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// lookup walks a dotted path into decoded JSON.
func lookup(v any, path string) any {
	for p := range strings.SplitSeq(path, ".") {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	return v
}

// cell formats a value for a table cell.
func cell(v any) string {
	switch v := v.(type) {
	case nil:
		return "-"
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			if m, ok := x.(map[string]any); ok && len(m) == 1 {
				for _, only := range m {
					x = only // a list of {key} shows as its keys
				}
			}
			parts[i] = cell(x)
		}
		return strings.Join(parts, ",")
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func writeTable(w io.Writer, cols []column, rows []any) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	heads := make([]string, len(cols))
	for i, c := range cols {
		heads[i] = c.head
	}
	fmt.Fprintln(tw, strings.Join(heads, "\t"))
	for _, r := range rows {
		vals := make([]string, len(cols))
		for i, c := range cols {
			vals[i] = cell(lookup(r, c.path))
		}
		fmt.Fprintln(tw, strings.Join(vals, "\t"))
	}
	tw.Flush()
}

// writeFields prints an object as aligned "field: value" lines, nested
// objects flattened to dotted names, id first and the rest sorted.
func writeFields(w io.Writer, v any) {
	var rows [][2]string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		m, ok := v.(map[string]any)
		if !ok || (len(m) == 0 && prefix != "") {
			rows = append(rows, [2]string{prefix, cell(v)})
			return
		}
		for _, k := range sortedKeys(m) {
			name := k
			if prefix != "" {
				name = prefix + "." + k
			}
			walk(name, m[k])
		}
	}
	walk("", v)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s:\t%s\n", r[0], r[1])
	}
	tw.Flush()
}

// sortedKeys returns m's keys sorted, with id first.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y string) int {
		switch {
		case x == y:
			return 0
		case x == "id":
			return -1
		case y == "id":
			return 1
		}
		return strings.Compare(x, y)
	})
	return keys
}

// plainScalar matches strings YAML reads back as the same string unquoted.
var plainScalar = regexp.MustCompile(`^[A-Za-z_/][A-Za-z0-9_./@+-]*( [A-Za-z0-9_./@+()-]+)*$`)

var yamlReserved = map[string]bool{"true": true, "false": true, "yes": true, "no": true, "on": true, "off": true, "null": true, "y": true, "n": true, "~": true}

// yamlScalar formats a scalar; strings are quoted (as JSON, which YAML
// reads) unless they are plainly safe.
func yamlScalar(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		if plainScalar.MatchString(v) && !yamlReserved[strings.ToLower(v)] {
			return v
		}
		b, _ := json.Marshal(v)
		return string(b)
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprint(v)
}

// writeYAML emits decoded JSON as block-style YAML: enough for the simple
// shapes cairnctl prints, with no module beyond the standard library.
func writeYAML(b *strings.Builder, v any, indent int) {
	pad := strings.Repeat("  ", indent)
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 0 {
			b.WriteString(pad + "{}\n")
			return
		}
		for _, k := range sortedKeys(v) {
			key := yamlScalar(k)
			switch x := v[k].(type) {
			case map[string]any:
				if len(x) == 0 {
					fmt.Fprintf(b, "%s%s: {}\n", pad, key)
					continue
				}
				fmt.Fprintf(b, "%s%s:\n", pad, key)
				writeYAML(b, x, indent+1)
			case []any:
				if len(x) == 0 {
					fmt.Fprintf(b, "%s%s: []\n", pad, key)
					continue
				}
				fmt.Fprintf(b, "%s%s:\n", pad, key)
				writeYAML(b, x, indent)
			default:
				fmt.Fprintf(b, "%s%s: %s\n", pad, key, yamlScalar(x))
			}
		}
	case []any:
		if len(v) == 0 {
			b.WriteString(pad + "[]\n")
			return
		}
		for _, x := range v {
			switch x := x.(type) {
			case map[string]any, []any:
				var inner strings.Builder
				writeYAML(&inner, x, indent+1)
				// The first line of the item goes after the dash.
				s := inner.String()
				fmt.Fprintf(b, "%s- %s", pad, strings.TrimPrefix(s, pad+"  "))
			default:
				fmt.Fprintf(b, "%s- %s\n", pad, yamlScalar(x))
			}
		}
	default:
		fmt.Fprintf(b, "%s%s\n", pad, yamlScalar(v))
	}
}
