package main

import (
	"database/sql/driver"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// script is a workload's captured statements as pgbench runs them.
type script struct {
	Text string
	// Defines are pgbench's -D name=value, the values of the parameters
	// of the statements that ran with them.
	Defines []string
	// Prepared is set when the server prepares some statement once per
	// connection (those with parameters among them): pgbench runs -M
	// prepared, which prepares every statement of the script.
	Prepared bool
}

// Linux's limits on a command line (execve): MAX_ARG_STRLEN, 32 pages, on
// each argument with its NUL; ARG_MAX, a quarter of the stack limit (2 MiB
// with the usual 8 MiB), on all of them with the environment. maxDefines
// keeps the -D arguments together well under the second.
const (
	maxArg     = 128 << 10
	maxDefines = 1 << 20
)

var (
	quoted = regexp.MustCompile(`'(?:[^']|'')*'`)
	idLike = regexp.MustCompile(`^'([a-z]+)-[0-9a-z]+'$`)
	param  = regexp.MustCompile(`\$([0-9]+)`)
)

// pgbenchScript writes a workload's statements (first) as a pgbench
// script. A statement with parameters keeps its text: each $N becomes a
// pgbench variable of its own (:a<statement>_<N>) whose value goes on the
// command line (-D). A script with a statement that the server prepares
// (with parameters or without) runs prepared, as the server runs that one.
//
// second, when not nil, is a second capture of a mutation: the IDs (a
// literal or a parameter) that differ between the two are the ones the
// mutation generates, and the script draws a fresh one of each on every
// run (SELECT … \gset) so that its INSERTs do not collide.
func pgbenchScript(first, second []statement) (script, error) {
	sc := script{Prepared: slices.ContainsFunc(first, func(s statement) bool { return s.Prepared })}
	fresh, prelude, err := freshIDs(first, second)
	if err != nil {
		return sc, err
	}
	// A drawn ID goes in as a variable: in simple mode pgbench writes its
	// value in place, inside the literal's quotes; in prepared mode it
	// sends it as a parameter, which must stand outside quotes.
	freshRef := func(v string) string {
		if sc.Prepared {
			return ":" + v
		}
		return "':" + v + "'"
	}
	var sb strings.Builder
	if len(prelude) > 0 {
		sb.WriteString("SELECT " + strings.Join(prelude, ", ") + " \\gset\n")
	}
	defined := map[string]bool{}
	for _, v := range fresh {
		defined[v] = true
	}
	size := 0 // of the -D arguments so far
	for i, st := range first {
		// Each parameter's replacement: a drawn ID, a variable given with
		// -D, or the value written into the text.
		repl := make([]string, len(st.Args))
		for k, a := range st.Args {
			if s, ok := a.(string); ok && fresh[pgQuote(s)] != "" {
				repl[k] = ":" + fresh[pgQuote(s)]
				continue
			}
			val, null, err := pgText(a)
			if err != nil {
				return sc, fmt.Errorf("statement %d, $%d: %w", i+1, k+1, err)
			}
			name := fmt.Sprintf("a%d_%d", i+1, k+1)
			def := name + "=" + val
			switch {
			case null:
				repl[k] = "NULL" // a pgbench variable has no NULL
			case len(def)+1 > maxArg || size+len(def)+1 > maxDefines:
				// Too long for the command line: the value goes into the
				// text as a literal, untyped as the parameter was. The
				// statement stays prepared with it, and so PostgreSQL
				// plans it once per connection as it does the server's.
				repl[k] = pgQuote(val)
				if sc.Prepared {
					repl[k] = colonSafe(repl[k])
				}
			default:
				sc.Defines = append(sc.Defines, def)
				size += len(def) + 1
				defined[name] = true
				repl[k] = ":" + name
			}
		}
		var err error
		text := replaceOutside(st.SQL, func(lit string, alone bool) string {
			if !alone {
				return lit
			}
			if v := fresh[lit]; v != "" {
				return freshRef(v)
			}
			if sc.Prepared {
				return colonSafe(lit)
			}
			return lit
		}, func(code string) string {
			if len(st.Args) == 0 {
				return code
			}
			return param.ReplaceAllStringFunc(code, func(p string) string {
				k, _ := strconv.Atoi(p[1:])
				if k < 1 || k > len(repl) {
					err = fmt.Errorf("statement %d has %s but %d parameters: %.300s", i+1, p, len(repl), st.SQL)
					return p
				}
				return repl[k-1]
			})
		})
		if err != nil {
			return sc, err
		}
		if sc.Prepared {
			// In prepared mode pgbench makes a parameter of every
			// :name in a statement, wherever it stands, up to 255.
			vars := pgbenchVars(text)
			for _, v := range vars {
				if !defined[v] {
					return sc, fmt.Errorf("statement %d holds :%s, which pgbench -M prepared would take for a variable: %.300s", i+1, v, text)
				}
			}
			if len(vars) > 255 {
				return sc, fmt.Errorf("statement %d has %d variables, more than pgbench's 255: %.300s", i+1, len(vars), text)
			}
		}
		sb.WriteString(text)
		sb.WriteString(";\n")
	}
	sc.Text = sb.String()
	return sc, nil
}

// freshIDs lines up two captures of a mutation and returns the IDs that
// differ between them (as quoted literals, each to the variable that draws
// a fresh one) and the select-list items that draw them. second nil: none.
func freshIDs(first, second []statement) (map[string]string, []string, error) {
	vars := map[string]string{} // quoted ID of the first run → variable
	var prelude []string
	if second == nil {
		return vars, nil, nil
	}
	if len(first) != len(second) {
		return nil, nil, fmt.Errorf("the mutation ran %d statements, then %d: cannot line them up", len(first), len(second))
	}
	add := func(a, b string) {
		m := idLike.FindStringSubmatch(a)
		if a == b || m == nil || vars[a] != "" {
			return
		}
		v := fmt.Sprintf("benchid%d", len(vars)+1)
		vars[a] = v
		prelude = append(prelude, fmt.Sprintf("'%s-' || substr(md5(random()::text), 1, 12) AS %s", m[1], v))
	}
	for i := range first {
		a, b := quoted.FindAllString(first[i].SQL, -1), quoted.FindAllString(second[i].SQL, -1)
		if len(a) != len(b) {
			return nil, nil, fmt.Errorf("statement %d has %d literals, then %d", i+1, len(a), len(b))
		}
		for j := range a {
			add(a[j], b[j])
		}
		if len(first[i].Args) != len(second[i].Args) {
			return nil, nil, fmt.Errorf("statement %d has %d parameters, then %d", i+1, len(first[i].Args), len(second[i].Args))
		}
		for j, x := range first[i].Args {
			y, ok2 := second[i].Args[j].(string)
			if x, ok1 := x.(string); ok1 && ok2 {
				add(pgQuote(x), pgQuote(y))
			}
		}
	}
	return vars, prelude, nil
}

// replaceOutside returns text with each quoted literal replaced by
// lit(it, whether it stands alone) and each stretch between them by
// code(it). A literal does not stand alone when a letter, a digit or & is
// right before it (E'…', U&'…', B'…'): it is part of another kind.
func replaceOutside(text string, lit func(string, bool) string, code func(string) string) string {
	var sb strings.Builder
	at := 0
	for _, m := range quoted.FindAllStringIndex(text, -1) {
		alone := m[0] == 0 || !isWordByte(text[m[0]-1])
		sb.WriteString(code(text[at:m[0]]))
		sb.WriteString(lit(text[m[0]:m[1]], alone))
		at = m[1]
	}
	sb.WriteString(code(text[at:]))
	return sb.String()
}

// pgText is the text of a parameter's value as PostgreSQL reads it (pgx
// sends these types so), and whether it is NULL.
func pgText(v any) (string, bool, error) {
	switch v := v.(type) {
	case nil:
		return "", true, nil
	case string:
		return v, false, nil
	case []string:
		return pgArray(v), false, nil
	case bool:
		return strconv.FormatBool(v), false, nil
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(v), false, nil
	case float32:
		return strconv.FormatFloat(float64(v), 'g', -1, 32), false, nil
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), false, nil
	case time.Time:
		return v.Format("2006-01-02 15:04:05.999999999Z07:00"), false, nil
	case driver.Valuer:
		dv, err := v.Value()
		if err != nil {
			return "", false, err
		}
		if _, again := dv.(driver.Valuer); again {
			return "", false, fmt.Errorf("a %T whose value is a driver.Valuer again", v)
		}
		return pgText(dv)
	}
	return "", false, fmt.Errorf("no text for a parameter of type %T", v)
}

// pgArray is the PostgreSQL array literal of elems: each element quoted,
// its backslashes and double quotes escaped.
func pgArray(elems []string) string {
	var sb strings.Builder
	sb.WriteByte('{')
	for i, e := range elems {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('"')
		for _, r := range e {
			if r == '"' || r == '\\' {
				sb.WriteByte('\\')
			}
			sb.WriteRune(r)
		}
		sb.WriteByte('"')
	}
	sb.WriteByte('}')
	return sb.String()
}

// pgQuote is s as an SQL string literal (standard_conforming_strings on).
func pgQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// colonSafe returns lit, a quoted literal, as an escape string literal
// (E'…') with its colons written \x3a when pgbench -M prepared would take
// one of them for a variable; else lit as it is.
func colonSafe(lit string) string {
	if len(pgbenchVars(lit)) == 0 {
		return lit
	}
	body := lit[1 : len(lit)-1] // '' stays '' in an escape string
	body = strings.ReplaceAll(body, `\`, `\\`)
	return "E'" + strings.ReplaceAll(body, ":", `\x3a`) + "'"
}

// isWordByte reports whether c can end a keyword or identifier (or U&).
func isWordByte(c byte) bool {
	return c == '&' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// pgbenchVars returns the variables pgbench finds in an SQL command: a
// colon that is not one of several in a row (a cast, ::), then a letter, an
// underscore or a non-ASCII byte, then those or digits (pgbench.c's
// parseVariable and the loops that call it).
func pgbenchVars(text string) []string {
	nameByte := func(c byte, first bool) bool {
		return c >= 0x80 || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || !first && c >= '0' && c <= '9'
	}
	var names []string
	for i := 0; i < len(text); {
		if text[i] != ':' {
			i++
			continue
		}
		j := i + 1
		if j < len(text) && nameByte(text[j], true) {
			for j < len(text) && nameByte(text[j], false) {
				j++
			}
			names = append(names, text[i+1:j])
			i = j
			continue
		}
		for j < len(text) && text[j] == ':' {
			j++
		}
		i = j
	}
	return names
}
