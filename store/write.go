package store

import (
	"context"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/uptrace/bun"
)

// principal returns the caller of ctx for a write. Returns UNAUTHENTICATED
// when not signed in.
func principal(ctx context.Context) (*cairn.Principal, error) {
	return cairn.RequirePrincipal(ctx)
}

// lockForWrite selects the object of kind k with id inside the caller's read
// scope and locks its row for the rest of tx. Returns NOT_FOUND when it does
// not exist or is outside the scope, and CONFLICT when expected is set and is
// not the object's version.
func lockForWrite[T, F any](ctx context.Context, tx bun.IDB, p *cairn.Principal, k kind[T, F], id string, expected *int) (*T, error) {
	row := new(T)
	err := k.scope(tx.NewSelect().Model(row), p).Where("?TableAlias.id = ?", id).For("UPDATE").Scan(ctx)
	if err != nil {
		return nil, interpretError(err, k.name+" "+quote(id))
	}
	if expected != nil {
		if f := tx.NewSelect().DB().Table(reflect.TypeFor[T]()).LookupField("version"); f != nil {
			if v := int(f.Value(reflect.ValueOf(row).Elem()).Int()); v != *expected {
				return nil, cairn.Errorf(cairn.ECONFLICT, "%s %s is at version %d, not the expectedVersion %d: someone changed it since you read it; read it again and retry", k.name, id, v, *expected)
			}
		}
	}
	return row, nil
}

func quote(s string) string { return `"` + s + `"` }

var keyPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

// keyOf returns the key given, or one derived from name ("MySQL Cluster" →
// "mysql-cluster"). Returns BAD_USER_INPUT naming field if the key is invalid.
func keyOf(key *string, name, field string) (string, error) {
	if key != nil {
		if !keyPattern.MatchString(*key) {
			return "", cairn.FieldError(field, "key %q must start with a letter and hold only a-z, 0-9 and -, at most 63 characters", *key)
		}
		return *key, nil
	}
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9' && b.Len() > 0:
			b.WriteRune(r)
			dash = false
		case b.Len() > 0 && !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	k := strings.TrimRight(b.String(), "-")
	if len(k) > 63 {
		k = strings.TrimRight(k[:63], "-")
	}
	if k == "" {
		return "", cairn.FieldError(field, "cannot derive a key from the name %q; pass a key (a-z, 0-9, -)", name)
	}
	return k, nil
}

// nonEmpty returns BAD_USER_INPUT naming field when s is blank.
func nonEmpty(s, field string) error {
	if strings.TrimSpace(s) == "" {
		return cairn.FieldError(field, "%s must not be empty", field[strings.LastIndexByte(field, '.')+1:])
	}
	return nil
}

// saveVersioned writes row back with its version bumped and updated_at set
// to now: the end of every update of a versioned object.
func saveVersioned[T any](ctx context.Context, tx bun.IDB, row *T, now time.Time) error {
	v := reflect.ValueOf(row).Elem()
	table := tx.NewSelect().DB().Table(reflect.TypeFor[T]())
	version := table.LookupField("version").Value(v)
	version.SetInt(version.Int() + 1)
	table.LookupField("updated_at").Value(v).Set(reflect.ValueOf(now))
	_, err := tx.NewUpdate().Model(row).WherePK().Exec(ctx)
	return err
}
