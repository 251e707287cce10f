package store

import (
	"context"
	"database/sql/driver"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-dev/cairn"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"
)

// directRows are the rows one connection plan fetched for all its parents,
// their values already written as JSON.
type directRows struct {
	vals     []byte
	offs     []int32 // value c of row r is vals[offs[r*ncols+c]:offs[r*ncols+c+1]]
	ncols    int
	colBytes []int // the bytes of each column's values, all rows
	// kept[start[g]:start[g+1]] are the rows of parent g (of the page
	// at the top level, g = 0) in response order; a row's position in kept
	// is its index as a parent of the children's rows.
	kept  []int32
	start []int32
	ids   []string // the IDs of the kept rows, when children need them
	base  []int    // where the page's (base[0]) and each join's columns start
	curs  []string // each row's cursor, when the selection reads them
	// cursorBytes and cursorMax bound the cursors' JSON, all and one.
	cursorBytes, cursorMax int
	more                   []bool // whether another page follows (precedes, backward) each group's
	total                  []int  // each group's totalCount, when the selection reads it
}

// renderDirect returns the JSON of plan, whose rows fetchDirect read.
func renderDirect(plan *connPlan) []byte {
	b := make([]byte, 0, plan.size())
	if plan.single != "" {
		return plan.writeObj(b, plan.obj, plan.rows.kept[0], 0)
	}
	return plan.write(b, 0)
}

var errNoPgx = errors.New("store: the connection is not pgx's")

// fetchDirect reads c's rows under parents (nil at the top level), then
// its children's under those rows.
func (s *Store) fetchDirect(ctx context.Context, p *cairn.Principal, c *connPlan, parents []string) error {
	var text string
	var args []any
	ngroups := 1
	prepared := false
	switch {
	case parents != nil && len(parents) == 0:
		c.rows = &directRows{ncols: c.ncols(), offs: []int32{0}, start: []int32{0}, colBytes: make([]int, c.ncols()), base: c.bases()}
		return c.fetchChildren(ctx, s, p)
	case c.single != "" || parents != nil:
		// Its text holds no value: the ID or the parents' IDs are $1, the
		// tenants the caller may read $2. It is built once per shape and
		// prepared once per connection.
		t, err := s.directText(c, parents != nil)
		if err != nil {
			return err
		}
		text, prepared, args = t, true, []any{c.single, readersArg(p)}
		if parents != nil {
			args[0], ngroups = parents, len(parents)
			s.batch(c.typ.k.kindName()+"."+c.parentCol, len(parents))
		}
	default: // a top-level page: its cursor and filter values are in the text
		var stmt queryAppender
		// listOwned's statement: costly to plan, and a console asks for
		// the same page again and again (see listOwned).
		owned, err := c.typ.k.ownedPage(s.db, p, c.filter, c.pg, c.cols)
		if err != nil {
			return err
		}
		if owned != nil {
			stmt, prepared = owned, true
		} else {
			q, err := c.typ.k.rows(s.db, p, c.filter)
			if err != nil {
				return err
			}
			stmt = c.pg.apply(q.Column(c.cols...))
		}
		if stmt, err = c.statement(s.db, p, stmt, false); err != nil {
			return err
		}
		b, err := stmt.AppendQuery(s.db.QueryGen(), nil)
		if err != nil {
			return err
		}
		text = string(b)
	}
	ncols, encs, base := c.ncols(), c.allEncs(), c.bases()
	r := &directRows{ncols: ncols, offs: []int32{0}, colBytes: make([]int, ncols), base: base}
	var groups []int32 // the parent of each row, 0-based
	var ids []string   // each row's ID, for the children's statements
	err := s.queryRows(ctx, text, prepared, args, func(rows pgx.Rows, m *pgtype.Map) error {
		fds := rows.FieldDescriptions()
		first := 0
		if parents != nil {
			first = 1
		}
		if len(fds) != first+ncols {
			return errors.New("store: direct statement returned unexpected columns")
		}
		for rows.Next() {
			raw := rows.RawValues()
			if parents != nil {
				g, err := strconv.ParseInt(string(raw[0]), 10, 64)
				if fds[0].Format == pgtype.BinaryFormatCode && len(raw[0]) == 8 {
					g, err = int64(binary.BigEndian.Uint64(raw[0])), nil
				}
				if err != nil || g < 1 || int(g) > ngroups {
					return errors.New("store: direct statement returned a bad parent ordinal")
				}
				groups = append(groups, int32(g-1))
			}
			if len(c.children) > 0 {
				ids = append(ids, string(raw[first]))
			}
			if c.cursors {
				cur, err := cursorOf(m, fds[first+c.orderCol], raw[first+c.orderCol], raw[first])
				if err != nil {
					return err
				}
				r.curs = append(r.curs, cur)
				r.cursorBytes += len(cur) + 3
				r.cursorMax = max(r.cursorMax, len(cur)+3)
			}
			for k, j := range c.joins {
				// A parent the caller may not read joins as NULL: null if
				// its resolver says so (orNull), else the resolvers
				// answer the field (NOT_FOUND).
				if !j.orNull && raw[first+base[j.from+1]+j.fk] != nil && raw[first+base[k+1]] == nil {
					return errParentHidden
				}
			}
			for i := range ncols {
				fd := fds[first+i]
				var err error
				if r.vals, err = appendValue(r.vals, m, encs[i], fd.DataTypeOID, fd.Format, raw[first+i]); err != nil {
					return err
				}
				r.offs = append(r.offs, int32(len(r.vals)))
				r.colBytes[i] += int(r.offs[len(r.offs)-1] - r.offs[len(r.offs)-2])
			}
		}
		return rows.Err()
	})
	if err != nil {
		return interpretError(err, "list "+c.typ.k.kindName()+"s")
	}
	if c.single != "" && len(r.offs) == 1 {
		return errNoRow // NOT_FOUND, as the resolver answers
	}
	r.group(groups, ngroups, c.pg)
	c.rows = r
	if c.count {
		if err := s.countDirect(ctx, p, c, parents); err != nil {
			return err
		}
	}
	if len(c.children) > 0 {
		r.ids = make([]string, len(r.kept))
		for i, row := range r.kept {
			r.ids[i] = ids[row]
		}
	}
	return c.fetchChildren(ctx, s, p)
}

var (
	errParentHidden = errors.New("store: a parent is outside the caller's scope")
	errNoRow        = errors.New("store: no such object")
)

type queryAppender interface {
	AppendQuery(schema.QueryGen, []byte) ([]byte, error)
}

// statement returns c's statement: page, the page's own (under the
// parents' IDs in $1 when nested), with c's joins. Each join reads its
// parent with that kind's scope, by ID, a nested loop per row (LIMIT 1
// keeps PostgreSQL from flattening it), and the rows are then ordered as
// the page orders them.
func (c *connPlan) statement(db *bun.DB, p *cairn.Principal, page queryAppender, nested bool) (queryAppender, error) {
	if !nested && len(c.joins) == 0 {
		return page, nil
	}
	var b strings.Builder
	args := []any{page}
	if nested {
		b.WriteString("SELECT parent.ord, page.*")
	} else {
		b.WriteString("SELECT page.*")
	}
	for k := range c.joins {
		fmt.Fprintf(&b, ", j%d.*", k)
	}
	if nested {
		b.WriteString(" FROM unnest($1::text[]) WITH ORDINALITY AS parent(id, ord) CROSS JOIN LATERAL (?) AS page")
	} else {
		b.WriteString(" FROM (?) AS page")
	}
	for k, j := range c.joins {
		q, err := j.typ.k.rows(db, p, nil)
		if err != nil {
			return nil, err
		}
		var from, fk string
		if j.from < 0 {
			from, fk = "page", c.cols[j.fk]
		} else {
			from, fk = fmt.Sprintf("j%d", j.from), c.joins[j.from].cols[j.fk]
		}
		args = append(args, q.Column(j.cols...).Where("?TableAlias.id = ?.?", bun.Ident(from), bun.Ident(fk)).Limit(1))
		fmt.Fprintf(&b, " LEFT JOIN LATERAL (?) AS j%d ON true", k)
	}
	if len(c.joins) > 0 && c.single == "" {
		b.WriteString(" ORDER BY ")
		if nested {
			b.WriteString("parent.ord, ")
		}
		dir := c.pg.dir()
		b.WriteString("page.? " + dir + ", page.id " + dir)
		args = append(args, bun.Ident(c.pg.order.col))
	}
	return db.NewRaw(b.String(), args...), nil
}

// directTexts caches the text of the statements whose values are all
// parameters, by shape (stmtKey).
var directTexts = must(lru.New[string, string](4096))

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// directText returns the text of c's statement for a lookup by ID ($1) or
// under parents ($1), with the caller's readable tenants as $2 (as
// chainQuery builds it).
func (s *Store) directText(c *connPlan, nested bool) (string, error) {
	key := c.stmtKey(nested)
	if t, ok := directTexts.Get(key); ok {
		return t, nil
	}
	q, err := c.typ.k.rows(s.db, readersSentinel, c.filter)
	if err != nil {
		return "", err
	}
	q = q.Column(c.cols...)
	var stmt queryAppender
	if nested {
		stmt = c.pg.apply(q).Where("?TableAlias.? = parent.id", bun.Ident(c.parentCol))
	} else {
		stmt = q.Where("?TableAlias.id = $1")
	}
	if stmt, err = c.statement(s.db, readersSentinel, stmt, nested); err != nil {
		return "", err
	}
	text, err := withReadersParam(s.db, stmt)
	if err != nil {
		return "", err
	}
	directTexts.Add(key, text)
	return text, nil
}

// stmtKey names what c's statement depends on besides its parameters.
func (c *connPlan) stmtKey(nested bool) string {
	b := make([]byte, 0, 128)
	b = append(b, c.typ.gql...)
	b = append(b, '|')
	b = append(b, c.parentCol...)
	b = strconv.AppendBool(append(b, '|'), nested)
	b = strconv.AppendBool(append(b, '|'), c.single != "")
	b = appendList(b, c.cols)
	if c.filter != nil {
		filter, _ := json.Marshal(c.filter) // a map: keys in order
		b = append(append(b, '|'), filter...)
	}
	b = strconv.AppendInt(append(b, '|'), int64(c.pg.limit), 10)
	b = append(append(b, '|'), c.pg.order.col...)
	b = strconv.AppendBool(append(b, '|'), c.pg.order.desc)
	b = strconv.AppendBool(append(b, '|'), c.pg.backward)
	if c.pg.cursor != nil {
		b = strconv.AppendQuote(append(b, '|'), c.pg.cursor.Value)
		b = strconv.AppendQuote(append(b, '|'), c.pg.cursor.ID)
	}
	for _, j := range c.joins {
		b = append(append(b, '|'), j.typ.gql...)
		b = strconv.AppendInt(append(b, '<'), int64(j.from), 10)
		b = strconv.AppendInt(append(b, '.'), int64(j.fk), 10)
		b = appendList(b, j.cols)
	}
	return string(b)
}

// appendList appends |a,b,c (column names: no separator inside).
func appendList(b []byte, names []string) []byte {
	b = append(b, '|')
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, n...)
	}
	return b
}

// ncols is the number of columns of c's rows: the page's, then each join's.
func (c *connPlan) ncols() int {
	n := len(c.cols)
	for _, j := range c.joins {
		n += len(j.cols)
	}
	return n
}

// allEncs are the encodings of c's rows' columns.
func (c *connPlan) allEncs() []encoding {
	encs := slices.Clone(c.encs)
	for _, j := range c.joins {
		encs = append(encs, j.encs...)
	}
	return encs
}

// bases are the offsets of the page's columns (bases[0]) and of each
// join's (bases[k+1]) in c's rows.
func (c *connPlan) bases() []int {
	base := []int{0, len(c.cols)}
	for _, j := range c.joins {
		base = append(base, base[len(base)-1]+len(j.cols))
	}
	return base[:len(c.joins)+1]
}

// fetchChildren fetches every child connection for c's rows.
func (c *connPlan) fetchChildren(ctx context.Context, s *Store, p *cairn.Principal) error {
	if len(c.children) == 0 {
		return nil
	}
	ids := c.rows.ids
	if ids == nil {
		ids = []string{}
	}
	for _, child := range c.children {
		if err := s.fetchDirect(ctx, p, child, ids); err != nil {
			return err
		}
	}
	return nil
}

// group sorts the rows by parent (groups; nil at the top level), keeps a
// page's worth of each (the statement reads one row more) and puts a
// backward page in order.
func (r *directRows) group(groups []int32, ngroups int, pg page) {
	n := (len(r.offs) - 1) / max(r.ncols, 1)
	count := make([]int32, ngroups+1)
	for i := range n {
		g := int32(0)
		if groups != nil {
			g = groups[i]
		}
		count[g+1]++
	}
	for g := range ngroups { // rows of group g: byGroup[pos[g]:pos[g+1]]
		count[g+1] += count[g]
	}
	pos := slices.Clone(count)
	byGroup := make([]int32, n)
	for i := range n {
		g := int32(0)
		if groups != nil {
			g = groups[i]
		}
		byGroup[pos[g]] = int32(i)
		pos[g]++
	}
	r.start = make([]int32, ngroups+1)
	r.kept = make([]int32, 0, n)
	r.more = make([]bool, ngroups)
	for g := range ngroups {
		rows := byGroup[count[g]:count[g+1]]
		if len(rows) > pg.limit {
			rows, r.more[g] = rows[:pg.limit], true
		}
		from := len(r.kept)
		r.kept = append(r.kept, rows...)
		if pg.backward {
			slices.Reverse(r.kept[from:])
		}
		r.start[g+1] = int32(len(r.kept))
	}
}

func (r *directRows) value(row int32, col int) []byte {
	i := int(row)*r.ncols + col
	return r.vals[r.offs[i]:r.offs[i+1]]
}

// size bounds the length of c's JSON for all its parents.
func (c *connPlan) size() int {
	parents := len(c.rows.start) - 1
	rows := len(c.rows.kept)
	n := parents * 2
	if c.obj != nil {
		n += c.obj.size(c, rows)
	}
	for _, s := range c.sel {
		n += parents * (len(s.key) + 3)
		switch s.kind {
		case selTypename:
			n += parents * (len(s.name) + 2)
		case selNodes:
			n += s.node.size(c, rows)
		case selEdges:
			for _, es := range s.edge {
				n += rows * (len(es.key) + len(es.name) + 5)
				if es.node != nil {
					n += es.node.size(c, rows)
				}
				if es.cursor {
					n += c.rows.cursorBytes
				}
			}
		case selPageInfo:
			n += parents * (64 + 2*c.rows.cursorMax)
			for _, ps := range s.page {
				n += parents * len(ps.key)
			}
		case selTotalCount:
			n += parents * 20
		}
	}
	return n
}

// size bounds the length of the JSON of o for c's rows.
func (o *objPlan) size(c *connPlan, rows int) int {
	n := rows * 3
	for _, f := range o.fields {
		n += rows * (len(f.key) + len(f.name) + 3)
		switch {
		case f.child != nil:
			n += f.child.size()
		case f.join >= 0:
			n += rows*4 + f.obj.size(c, rows)
		case f.col >= 0:
			n += c.rows.colBytes[c.rows.base[f.src+1]+f.col] // the column of every row: a bound
		}
	}
	return n
}

// write appends the JSON of c's connection object for parent g.
func (c *connPlan) write(b []byte, g int32) []byte {
	rows := c.rows.kept[c.rows.start[g]:c.rows.start[g+1]]
	b = append(b, '{')
	for i, s := range c.sel {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, s.key...)
		switch s.kind {
		case selTypename:
			b = appendQuoted(b, s.name)
		case selNodes:
			b = append(b, '[')
			for j, row := range rows {
				if j > 0 {
					b = append(b, ',')
				}
				b = c.writeObj(b, s.node, row, c.rows.start[g]+int32(j))
			}
			b = append(b, ']')
		case selEdges:
			b = append(b, '[')
			for j, row := range rows {
				if j > 0 {
					b = append(b, ',')
				}
				b = append(b, '{')
				for k, es := range s.edge {
					if k > 0 {
						b = append(b, ',')
					}
					b = append(b, es.key...)
					switch {
					case es.node != nil:
						b = c.writeObj(b, es.node, row, c.rows.start[g]+int32(j))
					case es.cursor:
						b = appendQuoted(b, c.rows.curs[row])
					default:
						b = appendQuoted(b, es.name)
					}
				}
				b = append(b, '}')
			}
			b = append(b, ']')
		case selPageInfo:
			b = c.writePageInfo(b, s.page, g, rows)
		case selTotalCount:
			b = strconv.AppendInt(b, int64(c.rows.total[g]), 10)
		}
	}
	return append(b, '}')
}

// writePageInfo appends the PageInfo of group g, whose rows are rows, as
// the store's connection builds it.
func (c *connPlan) writePageInfo(b []byte, sel []pageSel, g int32, rows []int32) []byte {
	next, prev := c.rows.more[g], c.pg.cursor != nil
	if c.pg.backward {
		next, prev = prev, next
	}
	b = append(b, '{')
	for i, ps := range sel {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, ps.key...)
		switch ps.field {
		case pageTypename:
			b = append(b, `"PageInfo"`...)
		case pageHasNext:
			b = strconv.AppendBool(b, next)
		case pageHasPrevious:
			b = strconv.AppendBool(b, prev)
		case pageStartCursor, pageEndCursor:
			switch {
			case len(rows) == 0:
				b = append(b, "null"...)
			case ps.field == pageStartCursor:
				b = appendQuoted(b, c.rows.curs[rows[0]])
			default:
				b = appendQuoted(b, c.rows.curs[rows[len(rows)-1]])
			}
		}
	}
	return append(b, '}')
}

// cursorOf returns the cursor of a row whose order column (described by
// fd) holds raw and whose ID is id, as the store's connection writes it.
func cursorOf(m *pgtype.Map, fd pgconn.FieldDescription, raw, id []byte) (string, error) {
	var v string
	if fd.DataTypeOID == pgtype.TimestamptzOID {
		dv, err := driverValue(m, fd.DataTypeOID, fd.Format, raw)
		t, ok := dv.(time.Time)
		if err != nil || !ok {
			return "", errors.New("store: direct cursor column is no time")
		}
		v = cursorValue(reflect.ValueOf(t))
	} else {
		v = string(raw)
	}
	return encodeCursor(cursor{Value: v, ID: string(id)}), nil
}

// countDirect reads the totalCount of each of c's groups: of the parents'
// rows, or of the whole list at the top level.
func (s *Store) countDirect(ctx context.Context, p *cairn.Principal, c *connPlan, parents []string) error {
	q, err := c.typ.k.rows(s.db, p, c.filter)
	if err != nil {
		return err
	}
	var args []any
	if parents == nil {
		q = q.ColumnExpr("NULL, count(*)")
	} else {
		q = q.ColumnExpr("?TableAlias.?, count(*)", bun.Ident(c.parentCol)).
			Where("?TableAlias.? = ANY($1::text[])", bun.Ident(c.parentCol)).GroupExpr("?TableAlias.?", bun.Ident(c.parentCol))
		args = []any{parents}
	}
	text, err := q.AppendQuery(s.db.QueryGen(), nil)
	if err != nil {
		return err
	}
	counts := map[string]int{}
	err = s.queryRows(ctx, string(text), parents != nil, args, func(rows pgx.Rows, m *pgtype.Map) error {
		for rows.Next() {
			var parent *string
			var n int64
			if err := rows.Scan(&parent, &n); err != nil {
				return err
			}
			if parent != nil {
				counts[*parent] = int(n)
			} else {
				counts[""] = int(n)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return interpretError(err, "count "+c.typ.k.kindName()+"s")
	}
	c.rows.total = make([]int, len(c.rows.start)-1)
	for g := range c.rows.total {
		if parents == nil {
			c.rows.total[g] = counts[""]
		} else {
			c.rows.total[g] = counts[parents[g]]
		}
	}
	return nil
}

// writeObj appends the JSON of the object in row (at position pos of kept)
// for the selection o.
func (c *connPlan) writeObj(b []byte, o *objPlan, row, pos int32) []byte {
	b = append(b, '{')
	for i, f := range o.fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, f.key...)
		switch {
		case f.child != nil:
			b = f.child.write(b, pos)
		case f.join >= 0:
			// No parent (a NULL key), or one the caller may not read
			// (orNull): its ID joined as NULL.
			if id := c.rows.value(row, c.rows.base[f.join+1]); string(id) == "null" {
				b = append(b, "null"...)
			} else {
				b = c.writeObj(b, f.obj, row, pos)
			}
		case f.col >= 0:
			b = append(b, c.rows.value(row, c.rows.base[f.src+1]+f.col)...)
		default:
			b = appendQuoted(b, f.name)
		}
	}
	return append(b, '}')
}

// appendValue appends the JSON of raw, a value of type oid in format, as
// enc writes it (null for NULL).
func appendValue(b []byte, m *pgtype.Map, enc encoding, oid uint32, format int16, raw []byte) ([]byte, error) {
	if raw == nil {
		return append(b, "null"...), nil
	}
	binaryFormat := format == pgtype.BinaryFormatCode
	switch enc {
	case encString:
		if oid != pgtype.TextOID && oid != pgtype.VarcharOID {
			return b, errors.New("store: direct column is not text")
		}
		return appendQuotedBytes(b, raw), nil
	case encInt:
		switch {
		case !binaryFormat:
			return append(b, raw...), nil
		case oid == pgtype.Int4OID && len(raw) == 4:
			return strconv.AppendInt(b, int64(int32(binary.BigEndian.Uint32(raw))), 10), nil
		case oid == pgtype.Int8OID && len(raw) == 8:
			return strconv.AppendInt(b, int64(binary.BigEndian.Uint64(raw)), 10), nil
		case oid == pgtype.Int2OID && len(raw) == 2:
			return strconv.AppendInt(b, int64(int16(binary.BigEndian.Uint16(raw))), 10), nil
		}
	case encBool:
		if oid == pgtype.BoolOID && len(raw) == 1 {
			if raw[0] == 1 || raw[0] == 't' {
				return append(b, "true"...), nil
			}
			return append(b, "false"...), nil
		}
	case encTime:
		// As pgx's database/sql driver converts it, which is what bun
		// scans into the struct that gqlgen marshals.
		v, err := driverValue(m, oid, format, raw)
		if err != nil {
			return b, err
		}
		t, ok := v.(time.Time)
		if !ok {
			break
		}
		if t.IsZero() {
			return append(b, "null"...), nil
		}
		b = append(b, '"')
		b = t.AppendFormat(b, time.RFC3339Nano)
		return append(b, '"'), nil
	}
	return b, errors.New("store: direct column of an unexpected type")
}

const hexDigits = "0123456789ABCDEF"

// appendQuoted appends s as gqlgen writes a String: control characters,
// the backslash and the quote escaped, everything else as is.
func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '\\' && c != '"' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '\t':
			b = append(b, `\t`...)
		case '\r':
			b = append(b, `\r`...)
		case '\n':
			b = append(b, `\n`...)
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendQuotedBytes(b []byte, s []byte) []byte {
	for _, c := range s {
		if c < 0x20 || c == '\\' || c == '"' {
			return appendQuoted(b, string(s))
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// queryRows runs query on a pgx connection of the pool and hands its rows
// to each: prepared once per connection (for texts that repeat: a nested
// page's does not change with the parents' IDs, only with the caller's
// scope and the arguments), else as one simple query. It counts and observes the
// statement as the store's hooks do for every other. Returns errNoPgx when
// the pool's connections are not pgx's.
func (s *Store) queryRows(ctx context.Context, query string, prepared bool, args []any, each func(pgx.Rows, *pgtype.Map) error) error {
	mode := []any{pgx.QueryExecModeSimpleProtocol}
	if prepared {
		mode = []any{pgx.QueryExecModeCacheStatement, sqlResultFormats}
	}
	return s.observed(ctx, query, args, func(ctx context.Context) error {
		for try := 0; ; try++ {
			conn, err := s.db.DB.Conn(ctx)
			if err != nil {
				return err
			}
			err = conn.Raw(func(dc any) error {
				c := pgxConnOf(dc)
				if c == nil {
					return errNoPgx
				}
				if c.IsClosed() {
					return driver.ErrBadConn // database/sql drops it; the next try takes another
				}
				rows, err := c.Query(ctx, query, append(mode, args...)...)
				if err != nil {
					if pgconn.SafeToRetry(err) {
						return driver.ErrBadConn // nothing was sent
					}
					return err
				}
				defer rows.Close()
				if err := each(rows, c.TypeMap()); err != nil {
					return err
				}
				rows.Close()
				return rows.Err()
			})
			_ = conn.Close()
			if !errors.Is(err, driver.ErrBadConn) || try == 2 {
				return err
			}
		}
	})
}
