package store_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
)

// checkTenancyErr fails t unless err has the code, the field (when field is
// set) and a message containing msg (when msg is set). code "" wants no error.
func checkTenancyErr(t *testing.T, err error, code, field, msg string) {
	t.Helper()
	if got := cairn.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
	if field != "" && cairn.ErrorField(err) != field {
		t.Errorf("error %v: field %q, want %q", err, cairn.ErrorField(err), field)
	}
	if msg != "" && !strings.Contains(cairn.ErrorMessage(err), msg) {
		t.Errorf("error message %q does not contain %q", cairn.ErrorMessage(err), msg)
	}
}

// tenancyPrincipals adds hand-built principals to the demo's: "root" (ROOT of
// the root tenant), "readerA" (READER of customer A) and "nobody" (no grant).
func tenancyPrincipals(d *store.Demo, ps map[string]*cairn.Principal) map[string]*cairn.Principal {
	all := map[string]*cairn.Principal{
		"root":    {UserID: "user-root", TenantID: d.Root, Grants: []cairn.Grant{{TenantID: d.Root, Role: cairn.RoleRoot}}},
		"readerA": {UserID: "user-readera", TenantID: d.CustomerA, Grants: []cairn.Grant{{TenantID: d.CustomerA, Role: cairn.RoleReader}}},
		"nobody":  {UserID: "user-nobody", TenantID: d.CustomerA},
	}
	for k, v := range ps {
		all[k] = v
	}
	return all
}

// ctxOf returns the context acting as the principal named who; "" is not
// signed in.
func ctxOf(ps map[string]*cairn.Principal, who string) context.Context {
	if who == "" {
		return context.Background()
	}
	return storetest.As(ps[who])
}

func TestCreateTenant(t *testing.T) {
	t.Parallel()
	s, d, ps0 := demo(t)
	ps := tenancyPrincipals(d, ps0)
	for _, tc := range []struct {
		name             string
		who              string
		in               cairn.CreateTenantInput
		code, field, msg string
		wantAncestors    []string // without the new tenant's own ID
	}{
		{name: "OwnerCreatesUnitUnderCustomer", who: "owner", in: cairn.CreateTenantInput{ParentID: d.CustomerA, Name: " Sales ", Kind: cairn.TenantUnit},
			wantAncestors: []string{d.Root, d.Provider, d.CustomerA}},
		{name: "AliceCreatesUnitUnderHerCustomer", who: "alice", in: cairn.CreateTenantInput{ParentID: d.CustomerA, Name: "Ops", Kind: cairn.TenantUnit},
			wantAncestors: []string{d.Root, d.Provider, d.CustomerA}},
		{name: "OwnerCreatesCustomerUnderPartner", who: "owner", in: cairn.CreateTenantInput{ParentID: d.Provider, Name: "Customer C", Kind: cairn.TenantCustomer},
			wantAncestors: []string{d.Root, d.Provider}},
		{name: "OwnerCreatesPartnerUnderPartner", who: "owner", in: cairn.CreateTenantInput{ParentID: d.Provider, Name: "Reseller", Kind: cairn.TenantPartner},
			wantAncestors: []string{d.Root, d.Provider}},
		{name: "RootCreatesCustomerUnderRoot", who: "root", in: cairn.CreateTenantInput{ParentID: d.Root, Name: "Direct", Kind: cairn.TenantCustomer},
			wantAncestors: []string{d.Root}},
		{name: "ErrUnauthenticated", in: cairn.CreateTenantInput{ParentID: d.CustomerA, Name: "X", Kind: cairn.TenantUnit},
			code: cairn.EUNAUTHENTICATED},
		{name: "ErrNameRequired", who: "owner", in: cairn.CreateTenantInput{ParentID: d.CustomerA, Name: "  ", Kind: cairn.TenantUnit},
			code: cairn.EBADINPUT, field: "input.name", msg: "name must not be empty"},
		{name: "ErrRootKind", who: "root", in: cairn.CreateTenantInput{ParentID: d.Root, Name: "Second root", Kind: cairn.TenantRoot},
			code: cairn.EBADINPUT, field: "input.kind", msg: "ROOT tenant can only be the first tenant"},
		{name: "ErrUnknownKind", who: "owner", in: cairn.CreateTenantInput{ParentID: d.CustomerA, Name: "X", Kind: "TEAM"},
			code: cairn.EBADINPUT, field: "input.kind", msg: `"TEAM" is not a tenant kind`},
		{name: "ErrUnitUnderPartner", who: "owner", in: cairn.CreateTenantInput{ParentID: d.Provider, Name: "X", Kind: cairn.TenantUnit},
			code: cairn.EBADINPUT, field: "input.kind", msg: "a UNIT goes under CUSTOMER or UNIT"},
		{name: "ErrPartnerUnderCustomer", who: "owner", in: cairn.CreateTenantInput{ParentID: d.CustomerA, Name: "X", Kind: cairn.TenantPartner},
			code: cairn.EBADINPUT, field: "input.kind", msg: "a PARTNER goes under ROOT or PARTNER"},
		{name: "ErrCustomerUnderCustomer", who: "owner", in: cairn.CreateTenantInput{ParentID: d.CustomerA, Name: "X", Kind: cairn.TenantCustomer},
			code: cairn.EBADINPUT, field: "input.kind", msg: "a CUSTOMER goes under PARTNER or ROOT"},
		{name: "ErrParentOutsideScope", who: "alice", in: cairn.CreateTenantInput{ParentID: d.CustomerB, Name: "X", Kind: cairn.TenantUnit},
			code: cairn.ENOTFOUND, msg: `tenant "` + d.CustomerB + `" not found`},
		{name: "ErrRootOutsideOwnerScope", who: "owner", in: cairn.CreateTenantInput{ParentID: d.Root, Name: "X", Kind: cairn.TenantPartner},
			code: cairn.ENOTFOUND, msg: `tenant "` + d.Root + `" not found`},
		{name: "ErrParentMissing", who: "owner", in: cairn.CreateTenantInput{ParentID: "org-missing", Name: "X", Kind: cairn.TenantUnit},
			code: cairn.ENOTFOUND, msg: `tenant "org-missing" not found`},
		{name: "ErrReaderForbidden", who: "readerA", in: cairn.CreateTenantInput{ParentID: d.CustomerA, Name: "X", Kind: cairn.TenantUnit},
			code: cairn.EFORBIDDEN, msg: "needs the ADMIN role"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := s.CreateTenant(ctxOf(ps, tc.who), tc.in)
			checkTenancyErr(t, err, tc.code, tc.field, tc.msg)
			if tc.code != "" {
				return
			}
			want := append(slices.Clone(tc.wantAncestors), got.ID)
			if !slices.Equal(got.Ancestors, want) {
				t.Errorf("ancestors %v, want %v", got.Ancestors, want)
			}
			if got.ParentID == nil || *got.ParentID != tc.in.ParentID || got.Kind != tc.in.Kind || got.State != cairn.TenantEnabled ||
				got.Version != 1 || got.Name != strings.TrimSpace(tc.in.Name) || cairn.IDPrefix(got.ID) != cairn.PrefixTenant {
				t.Errorf("created %+v", got)
			}
			// The creator reads it back through the scope, ancestors included.
			read, err := s.For(ctxOf(ps, tc.who)).Tenant(ctxOf(ps, tc.who), got.ID)
			if err != nil || !slices.Equal(read.Ancestors, want) {
				t.Errorf("read back %+v, %v", read, err)
			}
		})
	}
}

func TestCreateTenantUnderDisabledParent(t *testing.T) {
	t.Parallel()
	s, d, ps := demo(t)
	ctx := storetest.As(ps["owner"])
	disabled := cairn.TenantDisabled
	if _, err := s.UpdateTenant(ctx, cairn.UpdateTenantInput{ID: d.CustomerB, State: &disabled}); err != nil {
		t.Fatal(err)
	}
	_, err := s.CreateTenant(ctx, cairn.CreateTenantInput{ParentID: d.CustomerB, Name: "Unit", Kind: cairn.TenantUnit})
	checkTenancyErr(t, err, cairn.EFAILEDPRECONDITION, "", "enable it before creating tenants under it")
}

func TestUpdateTenant(t *testing.T) {
	t.Parallel()
	s, d, ps0 := demo(t)
	ps := tenancyPrincipals(d, ps0)
	str := func(s string) *string { return &s }
	state := func(s cairn.TenantState) *cairn.TenantState { return &s }
	v := func(n int) *int { return &n }
	for _, tc := range []struct {
		name             string
		who              string
		in               cairn.UpdateTenantInput
		code, field, msg string
	}{
		{name: "AliceRenamesHerCustomer", who: "alice", in: cairn.UpdateTenantInput{ID: d.CustomerA, Name: str(" Customer A Ltd "), ExpectedVersion: v(1)}},
		{name: "OwnerDisablesCustomer", who: "owner", in: cairn.UpdateTenantInput{ID: d.CustomerB, State: state(cairn.TenantDisabled)}},
		{name: "ErrUnauthenticated", in: cairn.UpdateTenantInput{ID: d.CustomerA, Name: str("X")}, code: cairn.EUNAUTHENTICATED},
		{name: "ErrNameBlank", who: "owner", in: cairn.UpdateTenantInput{ID: d.Provider, Name: str(" ")},
			code: cairn.EBADINPUT, field: "input.name", msg: "name must not be empty"},
		{name: "ErrBadState", who: "owner", in: cairn.UpdateTenantInput{ID: d.Provider, State: state("PAUSED")},
			code: cairn.EBADINPUT, field: "input.state", msg: `"PAUSED" is not a tenant state`},
		{name: "ErrStaleVersion", who: "owner", in: cairn.UpdateTenantInput{ID: d.Provider, Name: str("X"), ExpectedVersion: v(7)},
			code: cairn.ECONFLICT, msg: "not the expectedVersion 7"},
		{name: "ErrOutsideScope", who: "alice", in: cairn.UpdateTenantInput{ID: d.CustomerB, Name: str("Mine now")},
			code: cairn.ENOTFOUND, msg: `tenant "` + d.CustomerB + `" not found`},
		{name: "ErrReaderForbidden", who: "readerA", in: cairn.UpdateTenantInput{ID: d.CustomerA, Name: str("X")},
			code: cairn.EFORBIDDEN, msg: "Changing a tenant needs the ADMIN role"},
		{name: "ErrDisableRoot", who: "root", in: cairn.UpdateTenantInput{ID: d.Root, State: state(cairn.TenantDisabled)},
			code: cairn.EFAILEDPRECONDITION, msg: "ROOT tenant and cannot be disabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := s.UpdateTenant(ctxOf(ps, tc.who), tc.in)
			checkTenancyErr(t, err, tc.code, tc.field, tc.msg)
			if tc.code != "" {
				return
			}
			if got.Version != 2 {
				t.Errorf("version %d, want 2", got.Version)
			}
			if tc.in.Name != nil && got.Name != strings.TrimSpace(*tc.in.Name) {
				t.Errorf("name %q", got.Name)
			}
			if tc.in.State != nil && got.State != *tc.in.State {
				t.Errorf("state %q", got.State)
			}
		})
	}
}

func TestDisabledTenantPrincipal(t *testing.T) {
	t.Parallel()
	s, d, ps := demo(t)
	ctx := storetest.As(ps["owner"])
	disabled, enabled := cairn.TenantDisabled, cairn.TenantEnabled
	if _, err := s.UpdateTenant(ctx, cairn.UpdateTenantInput{ID: d.CustomerA, State: &disabled}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Principal(context.Background(), d.Alice)
	checkTenancyErr(t, err, cairn.EUNAUTHENTICATED, "", "tenant is disabled")
	if _, err := s.UpdateTenant(ctx, cairn.UpdateTenantInput{ID: d.CustomerA, State: &enabled}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Principal(context.Background(), d.Alice); err != nil {
		t.Errorf("alice after re-enabling: %v", err)
	}
}

func TestDeleteTenant(t *testing.T) {
	t.Parallel()
	s, d, ps0 := demo(t)
	ps := tenancyPrincipals(d, ps0)
	alice := storetest.As(ps["alice"])
	disabled := cairn.TenantDisabled
	disable := func(t *testing.T, id string) {
		t.Helper()
		if _, err := s.UpdateTenant(alice, cairn.UpdateTenantInput{ID: id, State: &disabled}); err != nil {
			t.Fatal(err)
		}
	}
	subscribe := func(t *testing.T, tenant string, status cairn.SubscriptionStatus) {
		t.Helper()
		now := s.Now()
		_, err := s.DB().NewInsert().Model(&cairn.ServiceSubscription{ID: cairn.NewID(cairn.PrefixSubscription), TenantID: tenant, TierID: d.Free,
			ServiceID: d.Service, ProviderTenantID: d.Provider, Status: status, CreatedAt: now, UpdatedAt: now, Version: 1}).Exec(context.Background())
		if err != nil {
			t.Fatal(err)
		}
	}
	v := func(n int) *int { return &n }
	for _, tc := range []struct {
		name string
		who  string
		// setup prepares the unit (a fresh UNIT of customer A, made by alice)
		// and returns the ID to delete.
		setup            func(t *testing.T, unit string) string
		version          *int
		code, field, msg string
	}{
		{name: "AliceDeletesDisabledUnit", who: "alice", setup: func(t *testing.T, u string) string {
			disable(t, u)
			// A binding on the unit and a cancelled subscription go with it.
			if _, err := s.CreateRoleBinding(alice, cairn.CreateRoleBindingInput{UserID: d.Alice, TenantID: u, Role: cairn.RoleReader}); err != nil {
				t.Fatal(err)
			}
			subscribe(t, u, cairn.SubscriptionCancelled)
			return u
		}, version: v(2)},
		{name: "ErrUnauthenticated", setup: func(t *testing.T, u string) string { disable(t, u); return u }, code: cairn.EUNAUTHENTICATED},
		{name: "ErrEnabled", who: "alice", setup: func(t *testing.T, u string) string { return u },
			code: cairn.EFAILEDPRECONDITION, msg: "is ENABLED: disable the tenant first"},
		{name: "ErrStaleVersion", who: "alice", setup: func(t *testing.T, u string) string { disable(t, u); return u }, version: v(1),
			code: cairn.ECONFLICT, msg: "not the expectedVersion 1"},
		{name: "ErrOwnTenantNeedsParentAdmin", who: "alice", setup: func(t *testing.T, u string) string {
			disable(t, u)
			return d.CustomerA
		}, code: cairn.EFORBIDDEN, msg: "needs the ADMIN role (or higher) on its parent tenant " + d.Provider},
		{name: "ErrReaderForbidden", who: "readerA", setup: func(t *testing.T, u string) string { disable(t, u); return u },
			code: cairn.EFORBIDDEN, msg: "on its parent tenant " + d.CustomerA},
		{name: "ErrOutsideScope", who: "bob", setup: func(t *testing.T, u string) string { disable(t, u); return u },
			code: cairn.ENOTFOUND, msg: "not found"},
		{name: "ErrRoot", who: "root", setup: func(t *testing.T, u string) string { return d.Root },
			code: cairn.EFAILEDPRECONDITION, msg: "ROOT tenant and cannot be deleted"},
		{name: "ErrHasChildren", who: "alice", setup: func(t *testing.T, u string) string {
			if _, err := s.CreateTenant(alice, cairn.CreateTenantInput{ParentID: u, Name: "Child", Kind: cairn.TenantUnit}); err != nil {
				t.Fatal(err)
			}
			disable(t, u)
			return u
		}, code: cairn.EFAILEDPRECONDITION, msg: "has 1 child tenant(s); delete them first"},
		{name: "ErrHasUsers", who: "alice", setup: func(t *testing.T, u string) string {
			if _, err := s.CreateUser(alice, cairn.CreateUserInput{TenantID: u, Email: cairn.NewID("u") + "@unit.example", Name: "U"}, ""); err != nil {
				t.Fatal(err)
			}
			disable(t, u)
			return u
		}, code: cairn.EFAILEDPRECONDITION, msg: "has 1 user(s); delete them first"},
		{name: "ErrHasLiveSubscription", who: "alice", setup: func(t *testing.T, u string) string {
			subscribe(t, u, cairn.SubscriptionCancelled)
			subscribe(t, u, cairn.SubscriptionActive)
			disable(t, u)
			return u
		}, code: cairn.EFAILEDPRECONDITION, msg: "has 1 subscription(s) that are not CANCELLED; cancel them first"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			unit, err := s.CreateTenant(alice, cairn.CreateTenantInput{ParentID: d.CustomerA, Name: tc.name, Kind: cairn.TenantUnit})
			if err != nil {
				t.Fatal(err)
			}
			id := tc.setup(t, unit.ID)
			err = s.DeleteTenant(ctxOf(ps, tc.who), cairn.DeleteInput{ID: id, ExpectedVersion: tc.version})
			checkTenancyErr(t, err, tc.code, tc.field, tc.msg)
			if tc.code != "" {
				if _, err := s.For(alice).Tenant(alice, unit.ID); err != nil {
					t.Errorf("after a refused delete the unit is gone: %v", err)
				}
				return
			}
			_, err = s.For(alice).Tenant(alice, id)
			checkTenancyErr(t, err, cairn.ENOTFOUND, "", "")
			var left int
			err = s.DB().NewSelect().ColumnExpr("(SELECT count(*) FROM role_bindings WHERE tenant_id = ?) + (SELECT count(*) FROM service_subscriptions WHERE tenant_id = ?)", id, id).
				Scan(context.Background(), &left)
			if err != nil || left != 0 {
				t.Errorf("%d bindings and subscriptions left (%v)", left, err)
			}
		})
	}
}
