package store_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
)

func TestCreateUser(t *testing.T) {
	t.Parallel()
	s, d, ps0 := demo(t)
	ps := tenancyPrincipals(d, ps0)
	role := func(r cairn.Role) *cairn.Role { return &r }
	pw := "secret-password"
	for _, tc := range []struct {
		name             string
		who              string
		in               cairn.CreateUserInput
		hash             string
		code, field, msg string
		wantEmail        string
	}{
		{name: "AliceCreatesUnactivatedUser", who: "alice", in: cairn.CreateUserInput{TenantID: d.CustomerA, Email: "  Carol@Customer-A.Example ", Name: "Carol"},
			wantEmail: "carol@customer-a.example"},
		{name: "AliceCreatesEditorWithPassword", who: "alice", in: cairn.CreateUserInput{TenantID: d.CustomerA, Email: "dave@customer-a.example", Name: "Dave", Password: &pw, Role: role(cairn.RoleEditor)},
			hash: "hash-of-password", wantEmail: "dave@customer-a.example"},
		{name: "AliceGrantsAdmin", who: "alice", in: cairn.CreateUserInput{TenantID: d.CustomerA, Email: "erin@customer-a.example", Name: "Erin", Role: role(cairn.RoleAdmin)},
			wantEmail: "erin@customer-a.example"},
		{name: "OwnerGrantsRootInCustomer", who: "owner", in: cairn.CreateUserInput{TenantID: d.CustomerA, Email: "frank@provider.example", Name: "Frank", Role: role(cairn.RoleRoot)},
			wantEmail: "frank@provider.example"},
		{name: "ErrUnauthenticated", in: cairn.CreateUserInput{TenantID: d.CustomerA, Email: "x@customer-a.example", Name: "X"}, code: cairn.EUNAUTHENTICATED},
		{name: "ErrEmailInvalid", who: "alice", in: cairn.CreateUserInput{TenantID: d.CustomerA, Email: "carol", Name: "Carol"},
			code: cairn.EBADINPUT, field: "input.email", msg: `"carol" is not an email address`},
		{name: "ErrEmailWithSpace", who: "alice", in: cairn.CreateUserInput{TenantID: d.CustomerA, Email: "carol smith@customer-a.example", Name: "Carol"},
			code: cairn.EBADINPUT, field: "input.email"},
		{name: "ErrNameRequired", who: "alice", in: cairn.CreateUserInput{TenantID: d.CustomerA, Email: "gina@customer-a.example", Name: ""},
			code: cairn.EBADINPUT, field: "input.name", msg: "name must not be empty"},
		{name: "ErrBadRole", who: "alice", in: cairn.CreateUserInput{TenantID: d.CustomerA, Email: "gina@customer-a.example", Name: "Gina", Role: role("OWNER")},
			code: cairn.EBADINPUT, field: "input.role", msg: `"OWNER" is not a role`},
		{name: "ErrDuplicateEmail", who: "alice", in: cairn.CreateUserInput{TenantID: d.CustomerA, Email: "ALICE@customer-a.example", Name: "Alice again"},
			code: cairn.ECONFLICT, msg: "a user with email alice@customer-a.example already exists"},
		{name: "ErrDuplicateEmailOfOtherTenant", who: "owner", in: cairn.CreateUserInput{TenantID: d.CustomerA, Email: store.DemoBob, Name: "Bob again"},
			code: cairn.ECONFLICT, msg: "a user with email " + store.DemoBob + " already exists"},
		{name: "ErrTenantOutsideScope", who: "alice", in: cairn.CreateUserInput{TenantID: d.CustomerB, Email: "mallory@customer-b.example", Name: "Mallory"},
			code: cairn.ENOTFOUND, msg: `tenant "` + d.CustomerB + `" not found`},
		{name: "ErrReaderForbidden", who: "readerA", in: cairn.CreateUserInput{TenantID: d.CustomerA, Email: "hank@customer-a.example", Name: "Hank"},
			code: cairn.EFORBIDDEN, msg: "Creating a user needs the ADMIN role"},
		{name: "ErrGrantRootWithoutRoot", who: "alice", in: cairn.CreateUserInput{TenantID: d.CustomerA, Email: "ivan@customer-a.example", Name: "Ivan", Role: role(cairn.RoleRoot)},
			code: cairn.EFORBIDDEN, msg: "you cannot grant a role higher than one you hold"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := ctxOf(ps, tc.who)
			u, err := s.CreateUser(ctx, tc.in, tc.hash)
			checkTenancyErr(t, err, tc.code, tc.field, tc.msg)
			if tc.code != "" {
				if tc.code != cairn.ECONFLICT {
					// Nothing was written, not even half of it.
					_, err := s.UserForSignIn(context.Background(), tc.in.Email)
					checkTenancyErr(t, err, cairn.ENOTFOUND, "", "")
				}
				return
			}
			if u.Email != tc.wantEmail || u.TenantID != tc.in.TenantID || u.Activated != (tc.hash != "") || u.PasswordHash != tc.hash || u.Version != 1 {
				t.Errorf("created %+v", u)
			}
			bindings, err := s.RoleBindings(ctx, cairn.PageArgs{}, &cairn.RoleBindingFilter{UserID: &u.ID})
			if err != nil {
				t.Fatal(err)
			}
			var roles []cairn.Role
			for _, b := range bindings.Nodes() {
				if b.TenantID != tc.in.TenantID {
					t.Errorf("binding on %s, want %s", b.TenantID, tc.in.TenantID)
				}
				roles = append(roles, b.Role)
			}
			if want := tc.in.Role; (want == nil && len(roles) != 0) || (want != nil && (len(roles) != 1 || roles[0] != *want)) {
				t.Errorf("roles %v, want %v", roles, want)
			}
		})
	}
}

func TestUserIsolation(t *testing.T) {
	t.Parallel()
	s, d, ps := demo(t)
	alice := storetest.As(ps["alice"])
	_, err := s.For(alice).User(alice, d.Bob)
	checkTenancyErr(t, err, cairn.ENOTFOUND, "", `user "`+d.Bob+`" not found`)
	err = s.DeleteUser(alice, cairn.DeleteInput{ID: d.Bob})
	checkTenancyErr(t, err, cairn.ENOTFOUND, "", `user "`+d.Bob+`" not found`)
	name := "Robert"
	_, err = s.UpdateUser(alice, cairn.UpdateUserInput{ID: d.Bob, Name: &name})
	checkTenancyErr(t, err, cairn.ENOTFOUND, "", `user "`+d.Bob+`" not found`)
	_, err = s.CreateUser(alice, cairn.CreateUserInput{TenantID: d.CustomerB, Email: "eve@customer-b.example", Name: "Eve"}, "")
	checkTenancyErr(t, err, cairn.ENOTFOUND, "", `tenant "`+d.CustomerB+`" not found`)
	// Bob is untouched.
	bob := storetest.As(ps["bob"])
	if u, err := s.For(bob).User(bob, d.Bob); err != nil || u.Name != "Bob Brown" {
		t.Errorf("bob: %+v, %v", u, err)
	}
}

func TestUpdateUser(t *testing.T) {
	t.Parallel()
	s, d, ps0 := demo(t)
	ps := tenancyPrincipals(d, ps0)
	alice := storetest.As(ps["alice"])
	str := func(s string) *string { return &s }
	yes, no := true, false
	v := func(n int) *int { return &n }
	newUser := func(t *testing.T) string {
		t.Helper()
		u, err := s.CreateUser(alice, cairn.CreateUserInput{TenantID: d.CustomerA, Email: cairn.NewID("user") + "@customer-a.example", Name: "New", Role: ptrRole(cairn.RoleReader)}, "hash")
		if err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	for _, tc := range []struct {
		name             string
		who              string
		in               func(id string) cairn.UpdateUserInput
		code, field, msg string
	}{
		{name: "Rename", who: "alice", in: func(id string) cairn.UpdateUserInput {
			return cairn.UpdateUserInput{ID: id, Name: str("Renamed"), ExpectedVersion: v(1)}
		}},
		{name: "DisableOther", who: "alice", in: func(id string) cairn.UpdateUserInput { return cairn.UpdateUserInput{ID: id, Disabled: &yes} }},
		{name: "RenameSelf", who: "alice", in: func(string) cairn.UpdateUserInput { return cairn.UpdateUserInput{ID: d.Alice, Name: str("Alice A.")} }},
		{name: "EnableSelfIsHarmless", who: "alice", in: func(string) cairn.UpdateUserInput { return cairn.UpdateUserInput{ID: d.Alice, Disabled: &no} }},
		{name: "ErrUnauthenticated", in: func(id string) cairn.UpdateUserInput { return cairn.UpdateUserInput{ID: id, Name: str("X")} },
			code: cairn.EUNAUTHENTICATED},
		{name: "ErrNameBlank", who: "alice", in: func(id string) cairn.UpdateUserInput { return cairn.UpdateUserInput{ID: id, Name: str("\t")} },
			code: cairn.EBADINPUT, field: "input.name"},
		{name: "ErrDisableSelf", who: "alice", in: func(string) cairn.UpdateUserInput { return cairn.UpdateUserInput{ID: d.Alice, Disabled: &yes} },
			code: cairn.EFAILEDPRECONDITION, msg: "you cannot disable yourself"},
		{name: "ErrStaleVersion", who: "alice", in: func(id string) cairn.UpdateUserInput {
			return cairn.UpdateUserInput{ID: id, Name: str("X"), ExpectedVersion: v(3)}
		}, code: cairn.ECONFLICT, msg: "not the expectedVersion 3"},
		{name: "ErrReaderForbidden", who: "readerA", in: func(id string) cairn.UpdateUserInput { return cairn.UpdateUserInput{ID: id, Name: str("X")} },
			code: cairn.EFORBIDDEN, msg: "Changing a user needs the ADMIN role"},
		{name: "ErrOutsideScope", who: "bob", in: func(id string) cairn.UpdateUserInput { return cairn.UpdateUserInput{ID: id, Name: str("X")} },
			code: cairn.ENOTFOUND, msg: "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := tc.in(newUser(t))
			u, err := s.UpdateUser(ctxOf(ps, tc.who), in)
			checkTenancyErr(t, err, tc.code, tc.field, tc.msg)
			if tc.code != "" {
				return
			}
			if (in.Name != nil && u.Name != *in.Name) || (in.Disabled != nil && u.Disabled != *in.Disabled) || u.Version < 2 {
				t.Errorf("updated %+v", u)
			}
			if in.Disabled != nil && *in.Disabled {
				_, err := s.Principal(context.Background(), u.ID)
				checkTenancyErr(t, err, cairn.EUNAUTHENTICATED, "", "Your account is disabled")
			}
		})
	}
}

func TestDeleteUser(t *testing.T) {
	t.Parallel()
	s, d, ps0 := demo(t)
	ps := tenancyPrincipals(d, ps0)
	alice := storetest.As(ps["alice"])
	for _, tc := range []struct {
		name string
		who  string
		self bool // delete the caller instead of a new user of customer A
		code string
		msg  string
	}{
		{name: "AliceDeletesUser", who: "alice"},
		{name: "OwnerDeletesUser", who: "owner"},
		{name: "ErrUnauthenticated", code: cairn.EUNAUTHENTICATED},
		{name: "ErrDeleteSelf", who: "alice", self: true, code: cairn.EFAILEDPRECONDITION, msg: "you cannot delete yourself"},
		{name: "ErrReaderForbidden", who: "readerA", code: cairn.EFORBIDDEN, msg: "Deleting a user needs the ADMIN role"},
		{name: "ErrOutsideScope", who: "bob", code: cairn.ENOTFOUND, msg: "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u, err := s.CreateUser(alice, cairn.CreateUserInput{TenantID: d.CustomerA, Email: cairn.NewID("user") + "@customer-a.example", Name: "Gone", Role: ptrRole(cairn.RoleEditor)}, "hash")
			if err != nil {
				t.Fatal(err)
			}
			id := u.ID
			if tc.self {
				id = ps[tc.who].UserID
			}
			err = s.DeleteUser(ctxOf(ps, tc.who), cairn.DeleteInput{ID: id})
			checkTenancyErr(t, err, tc.code, "", tc.msg)
			if tc.code != "" {
				return
			}
			_, err = s.For(alice).User(alice, id)
			checkTenancyErr(t, err, cairn.ENOTFOUND, "", "")
			bindings, err := s.RoleBindings(alice, cairn.PageArgs{}, &cairn.RoleBindingFilter{UserID: &id})
			if err != nil || len(bindings.Edges) != 0 {
				t.Errorf("bindings of a deleted user: %d, %v", len(bindings.Edges), err)
			}
		})
	}
}

func ptrRole(r cairn.Role) *cairn.Role { return &r }

func TestCreateRoleBinding(t *testing.T) {
	t.Parallel()
	s, d, ps0 := demo(t)
	ps := tenancyPrincipals(d, ps0)
	alice := storetest.As(ps["alice"])
	carol, err := s.CreateUser(alice, cairn.CreateUserInput{TenantID: d.CustomerA, Email: "carol@customer-a.example", Name: "Carol", Role: ptrRole(cairn.RoleReader)}, "")
	if err != nil {
		t.Fatal(err)
	}
	unit, err := s.CreateTenant(alice, cairn.CreateTenantInput{ParentID: d.CustomerA, Name: "Unit", Kind: cairn.TenantUnit})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name             string
		who              string
		in               cairn.CreateRoleBindingInput
		code, field, msg string
	}{
		{name: "AliceGrantsEditor", who: "alice", in: cairn.CreateRoleBindingInput{UserID: carol.ID, TenantID: d.CustomerA, Role: cairn.RoleEditor}},
		{name: "AliceGrantsAdminOnUnit", who: "alice", in: cairn.CreateRoleBindingInput{UserID: carol.ID, TenantID: unit.ID, Role: cairn.RoleAdmin}},
		{name: "OwnerGrantsRoot", who: "owner", in: cairn.CreateRoleBindingInput{UserID: carol.ID, TenantID: d.CustomerA, Role: cairn.RoleRoot}},
		{name: "ErrUnauthenticated", in: cairn.CreateRoleBindingInput{UserID: carol.ID, TenantID: d.CustomerA, Role: cairn.RoleAdmin}, code: cairn.EUNAUTHENTICATED},
		{name: "ErrBadRole", who: "alice", in: cairn.CreateRoleBindingInput{UserID: carol.ID, TenantID: d.CustomerA, Role: "GOD"},
			code: cairn.EBADINPUT, field: "input.role", msg: `"GOD" is not a role`},
		{name: "ErrDuplicate", who: "alice", in: cairn.CreateRoleBindingInput{UserID: carol.ID, TenantID: d.CustomerA, Role: cairn.RoleReader},
			code: cairn.ECONFLICT, msg: "user " + carol.ID + " already holds READER on tenant " + d.CustomerA},
		{name: "ErrRootNeedsRoot", who: "alice", in: cairn.CreateRoleBindingInput{UserID: carol.ID, TenantID: d.CustomerA, Role: cairn.RoleRoot},
			code: cairn.EFORBIDDEN, msg: "Granting ROOT on tenant " + d.CustomerA + " needs the ROOT role"},
		{name: "ErrReaderForbidden", who: "readerA", in: cairn.CreateRoleBindingInput{UserID: carol.ID, TenantID: d.CustomerA, Role: cairn.RoleReader},
			code: cairn.EFORBIDDEN, msg: "Granting a role needs the ADMIN role"},
		{name: "ErrTenantOutsideScope", who: "alice", in: cairn.CreateRoleBindingInput{UserID: carol.ID, TenantID: d.CustomerB, Role: cairn.RoleReader},
			code: cairn.ENOTFOUND, msg: `tenant "` + d.CustomerB + `" not found`},
		{name: "ErrUserOutsideScope", who: "alice", in: cairn.CreateRoleBindingInput{UserID: d.Bob, TenantID: d.CustomerA, Role: cairn.RoleReader},
			code: cairn.ENOTFOUND, msg: `user "` + d.Bob + `" not found`},
		{name: "ErrUserMissing", who: "alice", in: cairn.CreateRoleBindingInput{UserID: "user-missing", TenantID: d.CustomerA, Role: cairn.RoleReader},
			code: cairn.ENOTFOUND, msg: `user "user-missing" not found`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rb, err := s.CreateRoleBinding(ctxOf(ps, tc.who), tc.in)
			checkTenancyErr(t, err, tc.code, tc.field, tc.msg)
			if tc.code != "" {
				return
			}
			if rb.UserID != tc.in.UserID || rb.TenantID != tc.in.TenantID || rb.Role != tc.in.Role || cairn.IDPrefix(rb.ID) != cairn.PrefixRoleBinding {
				t.Errorf("created %+v", rb)
			}
		})
	}
}

func TestDeleteRoleBinding(t *testing.T) {
	t.Parallel()
	s, d, ps0 := demo(t)
	ps := tenancyPrincipals(d, ps0)
	alice, owner := storetest.As(ps["alice"]), storetest.As(ps["owner"])
	carol, err := s.CreateUser(alice, cairn.CreateUserInput{TenantID: d.CustomerA, Email: "carol@customer-a.example", Name: "Carol"}, "")
	if err != nil {
		t.Fatal(err)
	}
	bindingOf := func(ctx context.Context, user, tenant string) string {
		t.Helper()
		c, err := s.RoleBindings(ctx, cairn.PageArgs{}, &cairn.RoleBindingFilter{UserID: &user, TenantID: &tenant})
		if err != nil || len(c.Edges) != 1 {
			t.Fatalf("binding of %s on %s: %d, %v", user, tenant, len(c.Edges), err)
		}
		return c.Edges[0].Node.ID
	}
	grant := func(ctx context.Context, role cairn.Role) string {
		t.Helper()
		rb, err := s.CreateRoleBinding(ctx, cairn.CreateRoleBindingInput{UserID: carol.ID, TenantID: d.CustomerA, Role: role})
		if err != nil {
			t.Fatal(err)
		}
		return rb.ID
	}
	aliceAdmin := bindingOf(alice, d.Alice, d.CustomerA)

	t.Run("ErrLastAdmin", func(t *testing.T) {
		err := s.DeleteRoleBinding(owner, cairn.DeleteInput{ID: aliceAdmin})
		checkTenancyErr(t, err, cairn.EFAILEDPRECONDITION, "", "last ADMIN or ROOT binding of tenant "+d.CustomerA)
	})
	t.Run("ErrOutsideScope", func(t *testing.T) {
		err := s.DeleteRoleBinding(storetest.As(ps["bob"]), cairn.DeleteInput{ID: aliceAdmin})
		checkTenancyErr(t, err, cairn.ENOTFOUND, "", `role binding "`+aliceAdmin+`" not found`)
	})
	t.Run("ErrUnauthenticated", func(t *testing.T) {
		err := s.DeleteRoleBinding(context.Background(), cairn.DeleteInput{ID: aliceAdmin})
		checkTenancyErr(t, err, cairn.EUNAUTHENTICATED, "", "")
	})
	editor := grant(alice, cairn.RoleEditor)
	t.Run("ErrReaderForbidden", func(t *testing.T) {
		err := s.DeleteRoleBinding(storetest.As(ps["readerA"]), cairn.DeleteInput{ID: editor})
		checkTenancyErr(t, err, cairn.EFORBIDDEN, "", "Revoking a role needs the ADMIN role")
	})
	t.Run("AliceRevokesEditor", func(t *testing.T) {
		if err := s.DeleteRoleBinding(alice, cairn.DeleteInput{ID: editor}); err != nil {
			t.Fatal(err)
		}
		_, err := s.For(alice).RoleBinding(alice, editor)
		checkTenancyErr(t, err, cairn.ENOTFOUND, "", "")
	})
	root := grant(owner, cairn.RoleRoot)
	t.Run("ErrRevokeHigherRole", func(t *testing.T) {
		err := s.DeleteRoleBinding(alice, cairn.DeleteInput{ID: root})
		checkTenancyErr(t, err, cairn.EFORBIDDEN, "", "you cannot revoke a role higher than one you hold")
	})
	t.Run("AdminGoesOnceAnotherRemains", func(t *testing.T) {
		// Carol's ROOT binding on A is another admin-or-root binding.
		if err := s.DeleteRoleBinding(owner, cairn.DeleteInput{ID: aliceAdmin}); err != nil {
			t.Fatal(err)
		}
		err := s.DeleteRoleBinding(owner, cairn.DeleteInput{ID: root})
		checkTenancyErr(t, err, cairn.EFAILEDPRECONDITION, "", "last ADMIN or ROOT binding")
	})
}

func TestSignUp(t *testing.T) {
	t.Parallel()
	s, d, _ := demo(t)
	ctx := context.Background()
	in := cairn.SignUpInput{Email: " Zoe@Startup.Example ", Name: "Zoe", Password: "long-enough", TenantName: "Startup"}
	u, err := s.SignUp(ctx, in, "hash-of-long-enough")
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "zoe@startup.example" || !u.Activated || u.PasswordHash != "hash-of-long-enough" {
		t.Errorf("signed up %+v", u)
	}
	got, err := s.UserForSignIn(ctx, "ZOE@startup.example")
	if err != nil || got.ID != u.ID || got.PasswordHash != "hash-of-long-enough" {
		t.Fatalf("UserForSignIn: %+v, %v", got, err)
	}
	p, err := s.Principal(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Grants) != 1 || p.Grants[0].TenantID != u.TenantID || p.Grants[0].Role != cairn.RoleAdmin {
		t.Errorf("grants %+v", p.Grants)
	}
	zoe := storetest.As(p)
	tenant, err := s.For(zoe).Tenant(zoe, u.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	if tenant.Kind != cairn.TenantCustomer || tenant.Name != "Startup" || tenant.ParentID == nil || *tenant.ParentID != d.Root ||
		len(tenant.Ancestors) != 2 || tenant.Ancestors[0] != d.Root || tenant.Ancestors[1] != tenant.ID {
		t.Errorf("tenant %+v", tenant)
	}

	for _, tc := range []struct {
		name             string
		in               cairn.SignUpInput
		hash             string
		code, field, msg string
	}{
		{name: "ErrDuplicateEmail", in: cairn.SignUpInput{Email: "zoe@STARTUP.example", Name: "Zoe", TenantName: "Other"}, hash: "h",
			code: cairn.ECONFLICT, msg: "a user with email zoe@startup.example already exists"},
		{name: "ErrEmailInvalid", in: cairn.SignUpInput{Email: "zoe@", Name: "Zoe", TenantName: "Other"}, hash: "h",
			code: cairn.EBADINPUT, field: "input.email"},
		{name: "ErrNameRequired", in: cairn.SignUpInput{Email: "yan@startup.example", TenantName: "Other"}, hash: "h",
			code: cairn.EBADINPUT, field: "input.name"},
		{name: "ErrTenantNameRequired", in: cairn.SignUpInput{Email: "yan@startup.example", Name: "Yan", TenantName: " "}, hash: "h",
			code: cairn.EBADINPUT, field: "input.tenantName", msg: "tenantName must not be empty"},
		{name: "ErrNoPassword", in: cairn.SignUpInput{Email: "yan@startup.example", Name: "Yan", TenantName: "Other"},
			code: cairn.EBADINPUT, field: "input.password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := s.SignUp(ctx, tc.in, tc.hash)
			checkTenancyErr(t, err, tc.code, tc.field, tc.msg)
		})
	}
	t.Run("ErrDuplicateLeavesNoTenant", func(t *testing.T) {
		var n int
		err := s.DB().NewSelect().TableExpr("tenants").ColumnExpr("count(*)").Where("name = 'Other'").Scan(ctx, &n)
		if err != nil || n != 0 {
			t.Errorf("%d tenants named Other (%v)", n, err)
		}
	})
}

func TestSignUpWithoutRoot(t *testing.T) {
	t.Parallel()
	s := storetest.New(t)
	_, err := s.SignUp(context.Background(), cairn.SignUpInput{Email: "a@b.example", Name: "A", TenantName: "B"}, "h")
	checkTenancyErr(t, err, cairn.EFAILEDPRECONDITION, "", "Cairn has no root tenant yet; run cairn seed or create one")
}

func TestUserForSignIn(t *testing.T) {
	t.Parallel()
	s, d, _ := demo(t)
	for _, tc := range []struct {
		name, email, want, code string
	}{
		{name: "Exact", email: store.DemoAlice, want: d.Alice},
		{name: "CaseAndSpace", email: "  BOB@Customer-B.example ", want: d.Bob},
		{name: "ErrUnknown", email: "nobody@nowhere.example", code: cairn.ENOTFOUND},
		{name: "ErrEmpty", email: "", code: cairn.ENOTFOUND},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u, err := s.UserForSignIn(context.Background(), tc.email)
			checkTenancyErr(t, err, tc.code, "", "")
			if tc.code == "" && (u.ID != tc.want || u.PasswordHash == "") {
				t.Errorf("got %+v, want %s with its hash", u, tc.want)
			}
		})
	}
}

// keyMaker returns a create function for SigningKeys that counts its calls.
func keyMaker(calls *atomic.Int64) func() (string, []byte, error) {
	return func() (string, []byte, error) {
		n := calls.Add(1)
		return fmt.Sprintf("key-%d", n), []byte(fmt.Sprintf("private-%d", n)), nil
	}
}

func TestSigningKeys(t *testing.T) {
	t.Parallel()
	t.Run("TwiceGivesOneKey", func(t *testing.T) {
		t.Parallel()
		s := storetest.New(t)
		var calls atomic.Int64
		first, err := s.SigningKeys(context.Background(), keyMaker(&calls))
		if err != nil {
			t.Fatal(err)
		}
		second, err := s.SigningKeys(context.Background(), keyMaker(&calls))
		if err != nil {
			t.Fatal(err)
		}
		if calls.Load() != 1 || len(first) != 1 || len(second) != 1 {
			t.Fatalf("create called %d times; keys %v then %v", calls.Load(), first, second)
		}
		a, b := first[0], second[0]
		if a.ID != "key-1" || b.ID != a.ID || !bytes.Equal(a.Private, []byte("private-1")) || !bytes.Equal(b.Private, a.Private) || !a.CreatedAt.Equal(b.CreatedAt) {
			t.Errorf("first %+v, second %+v", a, b)
		}
	})
	t.Run("ConcurrentGivesOneKey", func(t *testing.T) {
		t.Parallel()
		// Each goroutine is a replica with its own store on one database.
		url := storetest.URL(t)
		var calls atomic.Int64
		const n = 4
		results := make([][]store.SigningKey, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			s, err := store.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			wg.Go(func() { results[i], errs[i] = s.SigningKeys(context.Background(), keyMaker(&calls)) })
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if len(results[i]) != 1 || results[i][0].ID != results[0][0].ID {
				t.Errorf("replica %d got %+v, replica 0 %+v", i, results[i], results[0])
			}
		}
		if calls.Load() != 1 {
			t.Errorf("create called %d times, want 1", calls.Load())
		}
	})
	t.Run("ErrCreateFails", func(t *testing.T) {
		t.Parallel()
		s := storetest.New(t)
		_, err := s.SigningKeys(context.Background(), func() (string, []byte, error) { return "", nil, fmt.Errorf("no entropy") })
		checkTenancyErr(t, err, cairn.EINTERNAL, "", "")
	})
}
