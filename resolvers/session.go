package resolvers

import (
	"context"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/auth"
	"github.com/cairn-dev/cairn/graph/model"
)

// errSignIn is the one answer to every failed password sign-in, so that it
// tells nobody which emails exist.
var errSignIn = cairn.Errorf(cairn.EUNAUTHENTICATED, "Wrong email or password.")

func (r *Resolver) signIn(ctx context.Context, in cairn.SignInInput) (*model.SignInPayload, error) {
	u, err := r.Store.UserForSignIn(ctx, in.Email)
	switch {
	case cairn.ErrorCode(err) == cairn.ENOTFOUND:
		auth.DummyVerify(in.Password)
		return nil, errSignIn
	case err != nil:
		return nil, err
	case u.PasswordHash == "" || !auth.VerifyPassword(u.PasswordHash, in.Password):
		return nil, errSignIn
	}
	// The principal's checks (disabled user or tenant) apply at sign-in too.
	if _, err := r.Store.Principal(ctx, u.ID); err != nil {
		return nil, err
	}
	return r.session(u)
}

func (r *Resolver) signUp(ctx context.Context, in cairn.SignUpInput) (*model.SignInPayload, error) {
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return nil, err
	}
	u, err := r.Store.SignUp(ctx, in, hash)
	if err != nil {
		return nil, err
	}
	return r.session(u)
}

func (r *Resolver) session(u *cairn.User) (*model.SignInPayload, error) {
	token, exp, err := r.Tokens.Sign(u.ID)
	if err != nil {
		return nil, err
	}
	return &model.SignInPayload{Token: token, ExpiresAt: exp, User: u}, nil
}

func (r *Resolver) viewer(ctx context.Context) (*model.Viewer, error) {
	p := cairn.PrincipalFromContext(ctx)
	if p == nil {
		return nil, nil
	}
	l := r.Store.For(ctx)
	v := &model.Viewer{RoleBindings: make([]*cairn.Grant, len(p.Grants))}
	for i := range p.Grants {
		v.RoleBindings[i] = &p.Grants[i]
	}
	var err error
	if p.UserID != "" {
		if v.User, err = orNil(l.User(ctx, p.UserID)); err != nil {
			return nil, err
		}
	}
	if v.Tenant, err = orNil(l.Tenant(ctx, p.TenantID)); err != nil {
		return nil, err
	}
	return v, nil
}
