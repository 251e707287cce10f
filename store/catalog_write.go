package store

import (
	"context"
	"fmt"
	"net/url"

	"github.com/cairn-dev/cairn"
	"github.com/uptrace/bun"
)

// Catalog writes: services, environments and models here; product tiers and
// resources in catalog_write_tier.go. Every write needs EDITOR (or higher) on
// the provider tenant of the service. Keys are unique per parent; the
// database's UNIQUE constraints enforce it.

// CreateService creates a service of a provider tenant (default: the caller's
// home tenant). Returns UNAUTHENTICATED when not signed in, BAD_USER_INPUT for
// invalid input, NOT_FOUND when the provider tenant does not exist or is
// outside the caller's scope, FORBIDDEN without EDITOR on it, and CONFLICT when
// the provider already has a service with the key.
func (s *Store) CreateService(ctx context.Context, in cairn.CreateServiceInput) (*cairn.Service, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := nonEmpty(in.Name, "input.name"); err != nil {
		return nil, err
	}
	key, err := keyOf(in.Key, in.Name, "input.key")
	if err != nil {
		return nil, err
	}
	logo, err := checkLogoURL(in.ServiceLogoURL, "input.serviceLogoURL")
	if err != nil {
		return nil, err
	}
	providerID := p.TenantID
	if in.ProviderTenantID != nil {
		providerID = *in.ProviderTenantID
	}
	var row *cairn.Service
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var provider cairn.Tenant
		err := tenants.scope(tx.NewSelect().Model(&provider), p).Where("?TableAlias.id = ?", providerID).Scan(ctx)
		if err != nil {
			return interpretError(err, "tenant "+quote(providerID))
		}
		if err := require(ctx, tx, p, cairn.RoleEditor, provider.ID, "Creating a service"); err != nil {
			return err
		}
		now := s.Now()
		row = &cairn.Service{ID: cairn.NewID(cairn.PrefixService), ProviderTenantID: provider.ID, Name: in.Name, Key: key,
			Description: in.Description, ServiceLogoURL: logo, CreatedAt: now, UpdatedAt: now, Version: 1}
		return insertCatalog(ctx, tx, row, "create service",
			fmt.Sprintf("a service with key %q already exists for provider tenant %s; choose another key", key, provider.ID))
	})
	if err != nil {
		return nil, err
	}
	return row, nil
}

// UpdateService changes a service's name, description or logo; nil fields
// stay as they are, and an empty serviceLogoURL removes the logo. Returns
// UNAUTHENTICATED, BAD_USER_INPUT, NOT_FOUND (missing or outside the caller's
// scope), CONFLICT for a stale expectedVersion, and FORBIDDEN without EDITOR
// on the provider.
func (s *Store) UpdateService(ctx context.Context, in cairn.UpdateServiceInput) (*cairn.Service, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if in.Name != nil {
		if err := nonEmpty(*in.Name, "input.name"); err != nil {
			return nil, err
		}
	}
	logo, err := checkLogoURL(in.ServiceLogoURL, "input.serviceLogoURL")
	if err != nil {
		return nil, err
	}
	var row *cairn.Service
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		row, err = lockForWrite(ctx, tx, p, services, in.ID, in.ExpectedVersion)
		if err != nil {
			return err
		}
		if err := require(ctx, tx, p, cairn.RoleEditor, row.ProviderTenantID, "Updating a service"); err != nil {
			return err
		}
		setCatalogField(&row.Name, in.Name)
		setCatalogField(&row.Description, in.Description)
		if in.ServiceLogoURL != nil {
			row.ServiceLogoURL = logo
		}
		err = saveVersioned(ctx, tx, row, s.Now())
		return interpretError(err, "update service "+quote(row.ID))
	})
	if err != nil {
		return nil, err
	}
	return row, nil
}

// DeleteService deletes a service and its whole catalog. Returns
// UNAUTHENTICATED, NOT_FOUND, CONFLICT for a stale expectedVersion, FORBIDDEN
// without EDITOR on the provider, and FAILED_PRECONDITION while any tier of
// the service has subscriptions that are not CANCELLED or any resource has
// instances.
func (s *Store) DeleteService(ctx context.Context, in cairn.DeleteInput) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row, err := lockForWrite(ctx, tx, p, services, in.ID, in.ExpectedVersion)
		if err != nil {
			return err
		}
		if err := require(ctx, tx, p, cairn.RoleEditor, row.ProviderTenantID, "Deleting a service"); err != nil {
			return err
		}
		return deleteCatalog(ctx, tx, row, catalogSubtree{what: "service " + quote(row.ID), id: row.ID, tierCol: "service_id", resourceCol: "service_id"})
	})
}

// CreateServiceEnvironment creates an environment of a service (default
// visibility PRIVATE). Returns UNAUTHENTICATED, BAD_USER_INPUT (also when
// sourceEnvironmentId is not an environment of the same service), NOT_FOUND
// when the service does not exist or is outside the caller's scope, FORBIDDEN
// without EDITOR on the provider, and CONFLICT when the service already has an
// environment with the key.
func (s *Store) CreateServiceEnvironment(ctx context.Context, in cairn.CreateServiceEnvironmentInput) (*cairn.ServiceEnvironment, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := nonEmpty(in.Name, "input.name"); err != nil {
		return nil, err
	}
	key, err := keyOf(in.Key, in.Name, "input.key")
	if err != nil {
		return nil, err
	}
	if err := checkCatalogEnum("EnvironmentType", string(in.Type), "input.type"); err != nil {
		return nil, err
	}
	visibility := cairn.VisibilityPrivate
	if in.Visibility != nil {
		if err := checkCatalogEnum("Visibility", string(*in.Visibility), "input.visibility"); err != nil {
			return nil, err
		}
		visibility = *in.Visibility
	}
	var row *cairn.ServiceEnvironment
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var svc cairn.Service
		err := services.scope(tx.NewSelect().Model(&svc), p).Where("?TableAlias.id = ?", in.ServiceID).Scan(ctx)
		if err != nil {
			return interpretError(err, "service "+quote(in.ServiceID))
		}
		if err := require(ctx, tx, p, cairn.RoleEditor, svc.ProviderTenantID, "Creating an environment"); err != nil {
			return err
		}
		if in.SourceEnvironmentID != nil {
			ok, err := tx.NewSelect().Model((*cairn.ServiceEnvironment)(nil)).
				Where("?TableAlias.id = ? AND ?TableAlias.service_id = ?", *in.SourceEnvironmentID, svc.ID).Exists(ctx)
			if err != nil {
				return interpretError(err, "check source environment")
			}
			if !ok {
				return cairn.FieldError("input.sourceEnvironmentId", "%q is not an environment of service %s; pass one of its environments or leave it out", *in.SourceEnvironmentID, svc.ID)
			}
		}
		now := s.Now()
		row = &cairn.ServiceEnvironment{ID: cairn.NewID(cairn.PrefixEnvironment), ServiceID: svc.ID, ProviderTenantID: svc.ProviderTenantID,
			Name: in.Name, Key: key, Description: in.Description, Type: in.Type, Visibility: visibility,
			AutoApproveSubscription: in.AutoApproveSubscription != nil && *in.AutoApproveSubscription,
			SourceEnvironmentID:     in.SourceEnvironmentID, CreatedAt: now, UpdatedAt: now, Version: 1}
		return insertCatalog(ctx, tx, row, "create environment",
			fmt.Sprintf("service %s already has an environment with key %q; choose another key", svc.ID, key))
	})
	if err != nil {
		return nil, err
	}
	return row, nil
}

// UpdateServiceEnvironment changes an environment; nil fields stay as they
// are. Returns UNAUTHENTICATED, BAD_USER_INPUT, NOT_FOUND, CONFLICT for a
// stale expectedVersion, and FORBIDDEN without EDITOR on the provider.
func (s *Store) UpdateServiceEnvironment(ctx context.Context, in cairn.UpdateServiceEnvironmentInput) (*cairn.ServiceEnvironment, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if in.Name != nil {
		if err := nonEmpty(*in.Name, "input.name"); err != nil {
			return nil, err
		}
	}
	if in.Visibility != nil {
		if err := checkCatalogEnum("Visibility", string(*in.Visibility), "input.visibility"); err != nil {
			return nil, err
		}
	}
	var row *cairn.ServiceEnvironment
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		row, err = lockForWrite(ctx, tx, p, environments, in.ID, in.ExpectedVersion)
		if err != nil {
			return err
		}
		if err := require(ctx, tx, p, cairn.RoleEditor, row.ProviderTenantID, "Updating an environment"); err != nil {
			return err
		}
		setCatalogField(&row.Name, in.Name)
		setCatalogField(&row.Description, in.Description)
		setCatalogField(&row.Visibility, in.Visibility)
		setCatalogField(&row.AutoApproveSubscription, in.AutoApproveSubscription)
		err = saveVersioned(ctx, tx, row, s.Now())
		return interpretError(err, "update environment "+quote(row.ID))
	})
	if err != nil {
		return nil, err
	}
	return row, nil
}

// DeleteServiceEnvironment deletes an environment and its models, tiers and
// resources. Returns UNAUTHENTICATED, NOT_FOUND, CONFLICT for a stale
// expectedVersion, FORBIDDEN without EDITOR on the provider, and
// FAILED_PRECONDITION while a tier under it has subscriptions that are not
// CANCELLED or a resource under it has instances.
func (s *Store) DeleteServiceEnvironment(ctx context.Context, in cairn.DeleteInput) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row, err := lockForWrite(ctx, tx, p, environments, in.ID, in.ExpectedVersion)
		if err != nil {
			return err
		}
		if err := require(ctx, tx, p, cairn.RoleEditor, row.ProviderTenantID, "Deleting an environment"); err != nil {
			return err
		}
		return deleteCatalog(ctx, tx, row, catalogSubtree{what: "service environment " + quote(row.ID), id: row.ID, tierCol: "environment_id", resourceCol: "environment_id"})
	})
}

// CreateServiceModel creates a service model in an environment. Returns
// UNAUTHENTICATED, BAD_USER_INPUT, NOT_FOUND when the environment does not
// exist or is outside the caller's scope, FORBIDDEN without EDITOR on the
// provider, and CONFLICT when the environment already has a model with the key.
func (s *Store) CreateServiceModel(ctx context.Context, in cairn.CreateServiceModelInput) (*cairn.ServiceModel, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := nonEmpty(in.Name, "input.name"); err != nil {
		return nil, err
	}
	key, err := keyOf(in.Key, in.Name, "input.key")
	if err != nil {
		return nil, err
	}
	if err := checkCatalogEnum("ModelType", string(in.ModelType), "input.modelType"); err != nil {
		return nil, err
	}
	var row *cairn.ServiceModel
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var env cairn.ServiceEnvironment
		err := environments.scope(tx.NewSelect().Model(&env), p).Where("?TableAlias.id = ?", in.EnvironmentID).Scan(ctx)
		if err != nil {
			return interpretError(err, "service environment "+quote(in.EnvironmentID))
		}
		if err := require(ctx, tx, p, cairn.RoleEditor, env.ProviderTenantID, "Creating a service model"); err != nil {
			return err
		}
		now := s.Now()
		row = &cairn.ServiceModel{ID: cairn.NewID(cairn.PrefixModel), ServiceID: env.ServiceID, EnvironmentID: env.ID,
			ProviderTenantID: env.ProviderTenantID, Name: in.Name, Key: key, Description: in.Description, ModelType: in.ModelType,
			CreatedAt: now, UpdatedAt: now, Version: 1}
		return insertCatalog(ctx, tx, row, "create service model",
			fmt.Sprintf("environment %s already has a service model with key %q; choose another key", env.ID, key))
	})
	if err != nil {
		return nil, err
	}
	return row, nil
}

// UpdateServiceModel changes a service model's name or description. Returns
// UNAUTHENTICATED, BAD_USER_INPUT, NOT_FOUND, CONFLICT for a stale
// expectedVersion, and FORBIDDEN without EDITOR on the provider.
func (s *Store) UpdateServiceModel(ctx context.Context, in cairn.UpdateServiceModelInput) (*cairn.ServiceModel, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if in.Name != nil {
		if err := nonEmpty(*in.Name, "input.name"); err != nil {
			return nil, err
		}
	}
	var row *cairn.ServiceModel
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		row, err = lockForWrite(ctx, tx, p, models, in.ID, in.ExpectedVersion)
		if err != nil {
			return err
		}
		if err := require(ctx, tx, p, cairn.RoleEditor, row.ProviderTenantID, "Updating a service model"); err != nil {
			return err
		}
		setCatalogField(&row.Name, in.Name)
		setCatalogField(&row.Description, in.Description)
		err = saveVersioned(ctx, tx, row, s.Now())
		return interpretError(err, "update service model "+quote(row.ID))
	})
	if err != nil {
		return nil, err
	}
	return row, nil
}

// DeleteServiceModel deletes a service model and its tiers and resources.
// Returns UNAUTHENTICATED, NOT_FOUND, CONFLICT for a stale expectedVersion,
// FORBIDDEN without EDITOR on the provider, and FAILED_PRECONDITION while a
// tier of the model has subscriptions that are not CANCELLED or a resource
// under it has instances.
func (s *Store) DeleteServiceModel(ctx context.Context, in cairn.DeleteInput) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row, err := lockForWrite(ctx, tx, p, models, in.ID, in.ExpectedVersion)
		if err != nil {
			return err
		}
		if err := require(ctx, tx, p, cairn.RoleEditor, row.ProviderTenantID, "Deleting a service model"); err != nil {
			return err
		}
		return deleteCatalog(ctx, tx, row, catalogSubtree{what: "service model " + quote(row.ID), id: row.ID, tierCol: "model_id", resourceCol: "model_id"})
	})
}

// setCatalogField sets *dst to *v when v is set.
func setCatalogField[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// checkCatalogEnum returns BAD_USER_INPUT naming field unless s is a value of the
// enum named kind.
func checkCatalogEnum(kind, s, field string) error {
	if !cairn.EnumValid(kind, s) {
		return cairn.FieldError(field, "%q is not a valid %s", s, kind)
	}
	return nil
}

// checkLogoURL returns the logo URL to store: nil for nil or "", else u if it
// is an absolute http(s) URL. Returns BAD_USER_INPUT naming field otherwise.
func checkLogoURL(u *string, field string) (*string, error) {
	if u == nil || *u == "" {
		return nil, nil
	}
	parsed, err := url.Parse(*u)
	if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
		return nil, cairn.FieldError(field, "%q is not an http(s) URL; pass one like https://example.com/logo.png", *u)
	}
	return u, nil
}

// insertCatalog inserts a catalog row. A unique violation (the only unique
// constraint of the catalog tables besides the random ID is the key per
// parent) answers CONFLICT on input.key with the message conflict.
func insertCatalog(ctx context.Context, tx bun.IDB, row any, what, conflict string) error {
	_, err := tx.NewInsert().Model(row).Exec(ctx)
	if err = interpretError(err, what); cairn.ErrorCode(err) == cairn.ECONFLICT {
		return &cairn.Error{Code: cairn.ECONFLICT, Message: conflict, Field: "input.key"}
	}
	return err
}

// catalogSubtree names a catalog object being deleted: the columns of
// product_tiers and resources that hold its ID select what lies under it
// (tierCol is "" for a resource, which has no tiers under it).
type catalogSubtree struct {
	what        string // for messages: `product tier "pt-…"`
	id          string
	tierCol     string
	resourceCol string
}

// deleteCatalog deletes row, the locked catalog object o names; its children
// go by ON DELETE CASCADE. It first locks the tiers and resources under it, so
// that no subscription or instance can be created against them until tx ends,
// and returns FAILED_PRECONDITION while any subscription that is not CANCELLED
// or any instance remains. Cancelled subscriptions of its tiers are deleted
// with it (their foreign keys would block the delete otherwise).
func deleteCatalog(ctx context.Context, tx bun.IDB, row any, o catalogSubtree) error {
	if o.tierCol != "" {
		var tierIDs []string
		err := tx.NewSelect().Model((*cairn.ProductTier)(nil)).Column("id").
			Where("?TableAlias.? = ?", bun.Ident(o.tierCol), o.id).For("UPDATE").Scan(ctx, &tierIDs)
		if err != nil {
			return interpretError(err, "lock product tiers")
		}
		live, err := tx.NewSelect().Model((*cairn.ServiceSubscription)(nil)).
			Where("?TableAlias.tier_id IN (SELECT id FROM product_tiers WHERE ? = ?)", bun.Ident(o.tierCol), o.id).
			Where("?TableAlias.status <> ?", cairn.SubscriptionCancelled).Count(ctx)
		if err != nil {
			return interpretError(err, "count subscriptions")
		}
		if live > 0 {
			return cairn.Errorf(cairn.EFAILEDPRECONDITION, "%s has %s not cancelled; their tenants must delete their instances and subscriptions first (deleteInstance, deleteServiceSubscription); meanwhile, updateProductTier with disabled: true stops new ones",
				o.what, catalogCount(live, "subscription"))
		}
	}
	var resourceIDs []string
	err := tx.NewSelect().Model((*cairn.Resource)(nil)).Column("id").
		Where("?TableAlias.? = ?", bun.Ident(o.resourceCol), o.id).For("UPDATE").Scan(ctx, &resourceIDs)
	if err != nil {
		return interpretError(err, "lock resources")
	}
	n, err := tx.NewSelect().Model((*cairn.ResourceInstance)(nil)).
		Where("?TableAlias.resource_id IN (SELECT id FROM resources WHERE ? = ?)", bun.Ident(o.resourceCol), o.id).Count(ctx)
	if err != nil {
		return interpretError(err, "count instances")
	}
	if n > 0 {
		return cairn.Errorf(cairn.EFAILEDPRECONDITION, "%s has %s; delete them first (deleteInstance), then retry", o.what, catalogCount(n, "instance"))
	}
	if o.tierCol != "" {
		_, err := tx.NewDelete().Model((*cairn.ServiceSubscription)(nil)).
			Where("?TableAlias.tier_id IN (SELECT id FROM product_tiers WHERE ? = ?)", bun.Ident(o.tierCol), o.id).
			Where("?TableAlias.status = ?", cairn.SubscriptionCancelled).Exec(ctx)
		if err != nil {
			return interpretError(err, "delete cancelled subscriptions")
		}
	}
	_, err = tx.NewDelete().Model(row).WherePK().Exec(ctx)
	return interpretError(err, "delete "+o.what)
}

// catalogCount returns "1 instance", "2 instances".
func catalogCount(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
