package main

import (
	"database/sql"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPgArray(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
	}{
		{nil, "{}"},
		{[]string{"a", "b"}, `{"a","b"}`},
		{[]string{`x"y`, `back\slash`, "NULL", "", "a,b", "{}"}, `{"x\"y","back\\slash","NULL","","a,b","{}"}`},
	} {
		if got := pgArray(c.in); got != c.want {
			t.Errorf("pgArray(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestPgText(t *testing.T) {
	for _, c := range []struct {
		in   any
		want string
	}{
		{"x'y", "x'y"},
		{int32(-7), "-7"},
		{uint64(18446744073709551615), "18446744073709551615"},
		{0.1, "0.1"},
		{true, "true"},
		{time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC), "2026-01-02 03:04:05.0000006Z"},
		{sql.NullString{String: "v", Valid: true}, "v"},
	} {
		if got, null, err := pgText(c.in); got != c.want || null || err != nil {
			t.Errorf("pgText(%#v) = %q, %v, %v; want %q", c.in, got, null, err, c.want)
		}
	}
	if _, null, err := pgText(sql.NullString{}); !null || err != nil {
		t.Errorf("pgText of a NULL: %v, %v", null, err)
	}
	if _, _, err := pgText(struct{}{}); err == nil {
		t.Error("pgText of a struct: no error")
	}
}

func TestPgbenchVars(t *testing.T) {
	for text, want := range map[string][]string{
		"SELECT $2::text[], x::int":       nil,
		"WHERE id = :a1_1 AND t && :a1_2": {"a1_1", "a1_2"},
		"'12:25:03' ':x' a:::b":           {"x"},
		"SELECT ':benchid1', :_u, :9, :é": {"benchid1", "_u", "é"},
	} {
		if got := pgbenchVars(text); !slices.Equal(got, want) {
			t.Errorf("pgbenchVars(%q) = %q, want %q", text, got, want)
		}
	}
	if got, want := colonSafe(`'a:b\c''d'`), `E'a\x3ab\\c''d'`; got != want {
		t.Errorf("colonSafe = %s, want %s", got, want)
	}
	if got := colonSafe(`'12:25'`); got != `'12:25'` {
		t.Errorf("colonSafe changed %s", got)
	}
}

func TestPgbenchScriptParameters(t *testing.T) {
	first := []statement{
		{SQL: `SELECT * FROM users WHERE id = 'user-1'`},
		{SQL: `SELECT i.* FROM (SELECT * FROM t WHERE t.id = $1 AND t.tenant_id = ANY($2::text[]) AND note <> '$1 :x') AS i WHERE $1 <> ''`,
			Prepared: true, Args: []any{"inst-9", []string{"tenant-a", `q"uote`}}},
	}
	sc, err := pgbenchScript(first, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !sc.Prepared {
		t.Error("not prepared")
	}
	want := "SELECT * FROM users WHERE id = 'user-1';\n" +
		`SELECT i.* FROM (SELECT * FROM t WHERE t.id = :a2_1 AND t.tenant_id = ANY(:a2_2::text[]) AND note <> E'$1 \x3ax') AS i WHERE :a2_1 <> ''` + ";\n"
	if sc.Text != want {
		t.Errorf("text\n%s\nwant\n%s", sc.Text, want)
	}
	if w := []string{"a2_1=inst-9", `a2_2={"tenant-a","q\"uote"}`}; !slices.Equal(sc.Defines, w) {
		t.Errorf("defines %q, want %q", sc.Defines, w)
	}

	// Too long for one argument of the command line: written in.
	long := strings.Repeat("x", maxArg)
	sc, err = pgbenchScript([]statement{{SQL: "SELECT $1", Prepared: true, Args: []any{long}}}, nil)
	if err != nil || len(sc.Defines) != 0 || sc.Text != "SELECT '"+long+"';\n" {
		t.Errorf("long value: %v, %d defines, %.40s", err, len(sc.Defines), sc.Text)
	}

	if _, err := pgbenchScript([]statement{{SQL: "SELECT $2", Prepared: true, Args: []any{"a"}}}, nil); err == nil {
		t.Error("$2 of one parameter: no error")
	}
	if sc, _ := pgbenchScript([]statement{{SQL: "SELECT '12:00', x::int"}}, nil); sc.Prepared || len(sc.Defines) > 0 {
		t.Errorf("nothing prepared: %+v", sc)
	}
	// Prepared without parameters (a page of listOwned): the text as it is,
	// the script prepared.
	sc, err = pgbenchScript([]statement{{SQL: "SELECT 'a:b'"}, {SQL: "SELECT '$1', 1", Prepared: true}}, nil)
	if err != nil || !sc.Prepared || len(sc.Defines) != 0 || sc.Text != "SELECT E'a\\x3ab';\nSELECT '$1', 1;\n" {
		t.Errorf("prepared, no parameters: %v, %+v", err, sc)
	}
}

func TestPgbenchScriptMutation(t *testing.T) {
	run := func(id string, args ...any) []statement {
		return []statement{
			{SQL: "BEGIN"},
			{SQL: "INSERT INTO instances (id, status) VALUES ('" + id + "', 'PENDING')"},
			{SQL: "SELECT 1 WHERE $1 = $2", Prepared: len(args) > 0, Args: args},
			{SQL: "COMMIT"},
		}
	}
	// Simple mode: the drawn ID goes inside the literal's quotes.
	sc, err := pgbenchScript(run("inst-aaa"), run("inst-bbb"))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Prepared || !strings.Contains(sc.Text, "VALUES (':benchid1', 'PENDING')") || !strings.HasPrefix(sc.Text, "SELECT 'inst-' || substr(md5(random()::text), 1, 12) AS benchid1 \\gset\n") {
		t.Errorf("simple:\n%s", sc.Text)
	}
	// Prepared mode: outside them, as a parameter; the same ID as a
	// parameter is the same variable, and a constant one goes with -D.
	sc, err = pgbenchScript(run("inst-aaa", "inst-aaa", "env-1"), run("inst-bbb", "inst-bbb", "env-1"))
	if err != nil {
		t.Fatal(err)
	}
	if !sc.Prepared || !strings.Contains(sc.Text, "VALUES (:benchid1, 'PENDING')") || !strings.Contains(sc.Text, "SELECT 1 WHERE :benchid1 = :a3_2;") ||
		!slices.Equal(sc.Defines, []string{"a3_2=env-1"}) {
		t.Errorf("prepared:\n%s\n%q", sc.Text, sc.Defines)
	}
}
