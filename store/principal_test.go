package store_test

import (
	"context"
	"testing"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/store/storetest"
)

// TestPrincipalOfDisabledSubtree disables customer A and checks that its
// users, and the users of a unit below it, can no longer act, while the
// provider's owner still can.
func TestPrincipalOfDisabledSubtree(t *testing.T) {
	t.Parallel()
	s, d, ps := demo(t)
	owner := storetest.As(ps["owner"])
	unit, err := s.CreateTenant(owner, cairn.CreateTenantInput{ParentID: d.CustomerA, Name: "Ops", Kind: cairn.TenantUnit})
	if err != nil {
		t.Fatal(err)
	}
	admin := cairn.RoleAdmin
	u, err := s.CreateUser(owner, cairn.CreateUserInput{TenantID: unit.ID, Email: "ops@customer-a.example", Name: "Ops", Role: &admin}, "hash")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Principal(context.Background(), u.ID); err != nil {
		t.Fatalf("unit user before disabling: %v", err)
	}
	disabled := cairn.TenantDisabled
	if _, err := s.UpdateTenant(owner, cairn.UpdateTenantInput{ID: d.CustomerA, State: &disabled}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, id, code string }{
		{"UserOfDisabledTenant", d.Alice, cairn.EUNAUTHENTICATED},
		{"UserOfUnitBelow", u.ID, cairn.EUNAUTHENTICATED},
		{"Provider", d.Owner, ""},
		{"OtherCustomer", d.Bob, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Principal(context.Background(), tc.id)
			if cairn.ErrorCode(err) != tc.code {
				t.Errorf("code %q (%v), want %q", cairn.ErrorCode(err), err, tc.code)
			}
		})
	}
}
