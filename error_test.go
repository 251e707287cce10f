package cairn_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/cairn-dev/cairn"
)

func TestErrorCodeAndMessage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		err            error
		code, msg, fld string
	}{
		{"Nil", nil, "", "", ""},
		{"CairnError", cairn.Errorf(cairn.ENOTFOUND, "instance %q not found", "instance-x"), "NOT_FOUND", `instance "instance-x" not found`, ""},
		{"Wrapped", fmt.Errorf("load: %w", cairn.FieldError("input.name", "name must not be empty")), "BAD_USER_INPUT", "name must not be empty", "input.name"},
		{"InternalHidesDetail", fmt.Errorf("query: %w", sql.ErrConnDone), "INTERNAL", "Internal error.", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cairn.ErrorCode(tc.err); got != tc.code {
				t.Errorf("code %q, want %q", got, tc.code)
			}
			if got := cairn.ErrorMessage(tc.err); got != tc.msg {
				t.Errorf("message %q, want %q", got, tc.msg)
			}
			if got := cairn.ErrorField(tc.err); got != tc.fld {
				t.Errorf("field %q, want %q", got, tc.fld)
			}
		})
	}
}

func TestRoles(t *testing.T) {
	t.Parallel()
	p := &cairn.Principal{Grants: []cairn.Grant{{TenantID: "org-a", Role: cairn.RoleAdmin}, {TenantID: "org-b", Role: cairn.RoleReader}, {TenantID: "org-a", Role: cairn.RoleReader}}}
	for _, tc := range []struct {
		role cairn.Role
		want []string
	}{
		{cairn.RoleRoot, nil},
		{cairn.RoleAdmin, []string{"org-a"}},
		{cairn.RoleEditor, []string{"org-a"}},
		{cairn.RoleReader, []string{"org-a", "org-b"}},
	} {
		if got := p.TenantsWith(tc.role); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("TenantsWith(%s) = %v, want %v", tc.role, got, tc.want)
		}
	}
	if cairn.RoleReader.Includes(cairn.RoleEditor) || !cairn.RoleRoot.Includes(cairn.RoleAdmin) || cairn.Role("OWNER").Valid() {
		t.Error("role order is wrong")
	}
	if _, err := cairn.RequirePrincipal(context.Background()); cairn.ErrorCode(err) != cairn.EUNAUTHENTICATED {
		t.Errorf("RequirePrincipal without a principal: %v", err)
	}
}

func TestNewID(t *testing.T) {
	t.Parallel()
	id := cairn.NewID(cairn.PrefixInstance)
	if len(id) != len("instance-")+9 || cairn.IDPrefix(id) != "instance" {
		t.Errorf("NewID = %q, prefix %q", id, cairn.IDPrefix(id))
	}
	if cairn.IDPrefix("nodash") != "" || cairn.IDPrefix("org-x") != "org" {
		t.Error("IDPrefix")
	}
}
