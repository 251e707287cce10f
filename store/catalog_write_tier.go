package store

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/cairn-dev/cairn"
	"github.com/uptrace/bun"
)

// CreateProductTier creates a product tier of a service model. Nil region
// lists, pricing and features are stored empty. Returns UNAUTHENTICATED,
// BAD_USER_INPUT, NOT_FOUND when the model does not exist or is outside the
// caller's scope, FORBIDDEN without EDITOR on the provider, and CONFLICT when
// the model already has a tier with the key.
func (s *Store) CreateProductTier(ctx context.Context, in cairn.CreateProductTierInput) (*cairn.ProductTier, error) {
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
	if err := checkCatalogEnum("TierType", string(in.TierType), "input.tierType"); err != nil {
		return nil, err
	}
	if err := checkMaxInstances(in.MaxNumberOfInstances); err != nil {
		return nil, err
	}
	regions := [3][]string{in.AwsRegions, in.GcpRegions, in.AzureRegions}
	if err := checkTierRegions(&regions); err != nil {
		return nil, err
	}
	var row *cairn.ProductTier
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var m cairn.ServiceModel
		err := models.scope(tx.NewSelect().Model(&m), p).Where("?TableAlias.id = ?", in.ModelID).Scan(ctx)
		if err != nil {
			return interpretError(err, "service model "+quote(in.ModelID))
		}
		if err := require(ctx, tx, p, cairn.RoleEditor, m.ProviderTenantID, "Creating a product tier"); err != nil {
			return err
		}
		now := s.Now()
		row = &cairn.ProductTier{ID: cairn.NewID(cairn.PrefixTier), ServiceID: m.ServiceID, EnvironmentID: m.EnvironmentID, ModelID: m.ID,
			ProviderTenantID: m.ProviderTenantID, Name: in.Name, Key: key, Description: in.Description, TierType: in.TierType,
			AwsRegions: regions[0], GcpRegions: regions[1], AzureRegions: regions[2], MaxNumberOfInstances: in.MaxNumberOfInstances,
			AutoApproveSubscription: in.AutoApproveSubscription != nil && *in.AutoApproveSubscription,
			Pricing:                 jsonObject(in.Pricing), Features: jsonObject(in.Features), CreatedAt: now, UpdatedAt: now, Version: 1}
		setCatalogField(&row.PlanDescription, in.PlanDescription)
		return insertCatalog(ctx, tx, row, "create product tier",
			fmt.Sprintf("service model %s already has a product tier with key %q; choose another key", m.ID, key))
	})
	if err != nil {
		return nil, err
	}
	return row, nil
}

// UpdateProductTier changes a product tier. Nil fields stay as they are; a
// non-nil region list, pricing or features replaces the old one whole.
// Returns UNAUTHENTICATED, BAD_USER_INPUT, NOT_FOUND, CONFLICT for a stale
// expectedVersion, and FORBIDDEN without EDITOR on the provider.
func (s *Store) UpdateProductTier(ctx context.Context, in cairn.UpdateProductTierInput) (*cairn.ProductTier, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if in.Name != nil {
		if err := nonEmpty(*in.Name, "input.name"); err != nil {
			return nil, err
		}
	}
	if err := checkMaxInstances(in.MaxNumberOfInstances.Value); err != nil {
		return nil, err
	}
	regions := [3][]string{in.AwsRegions, in.GcpRegions, in.AzureRegions}
	for i, field := range tierRegionFields {
		if regions[i] != nil {
			if err := checkRegions(regions[i], field); err != nil {
				return nil, err
			}
		}
	}
	var row *cairn.ProductTier
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		row, err = lockForWrite(ctx, tx, p, tiers, in.ID, in.ExpectedVersion)
		if err != nil {
			return err
		}
		if err := require(ctx, tx, p, cairn.RoleEditor, row.ProviderTenantID, "Updating a product tier"); err != nil {
			return err
		}
		setCatalogField(&row.Name, in.Name)
		setCatalogField(&row.Description, in.Description)
		setCatalogField(&row.PlanDescription, in.PlanDescription)
		setCatalogField(&row.Disabled, in.Disabled)
		setCatalogField(&row.AutoApproveSubscription, in.AutoApproveSubscription)
		if in.MaxNumberOfInstances.Set {
			row.MaxNumberOfInstances = in.MaxNumberOfInstances.Value
		}
		for i, dst := range []*[]string{&row.AwsRegions, &row.GcpRegions, &row.AzureRegions} {
			if regions[i] != nil {
				*dst = regions[i]
			}
		}
		if in.Pricing != nil {
			row.Pricing = in.Pricing
		}
		if in.Features != nil {
			row.Features = in.Features
		}
		err = saveVersioned(ctx, tx, row, s.Now())
		return interpretError(err, "update product tier "+quote(row.ID))
	})
	if err != nil {
		return nil, err
	}
	return row, nil
}

// DeleteProductTier deletes a product tier and its resources. Returns
// UNAUTHENTICATED, NOT_FOUND, CONFLICT for a stale expectedVersion, FORBIDDEN
// without EDITOR on the provider, and FAILED_PRECONDITION while the tier has
// subscriptions that are not CANCELLED or its resources have instances.
func (s *Store) DeleteProductTier(ctx context.Context, in cairn.DeleteInput) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row, err := lockForWrite(ctx, tx, p, tiers, in.ID, in.ExpectedVersion)
		if err != nil {
			return err
		}
		if err := require(ctx, tx, p, cairn.RoleEditor, row.ProviderTenantID, "Deleting a product tier"); err != nil {
			return err
		}
		return deleteCatalog(ctx, tx, row, catalogSubtree{what: "product tier " + quote(row.ID), id: row.ID, tierCol: "id", resourceCol: "tier_id"})
	})
}

// CreateResource creates a resource of a product tier (default type Generic).
// Returns UNAUTHENTICATED, BAD_USER_INPUT (also for dependencyIds that are not
// other resources of the same tier), NOT_FOUND when the tier does not exist or
// is outside the caller's scope, FORBIDDEN without EDITOR on the provider, and
// CONFLICT when the tier already has a resource with the key.
func (s *Store) CreateResource(ctx context.Context, in cairn.CreateResourceInput) (*cairn.Resource, error) {
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
	resourceType := "Generic"
	if in.ResourceType != nil {
		if err := nonEmpty(*in.ResourceType, "input.resourceType"); err != nil {
			return nil, err
		}
		resourceType = *in.ResourceType
	}
	inputs, err := checkInputParameters(in.InputParameters)
	if err != nil {
		return nil, err
	}
	outputs, err := checkOutputParameters(in.OutputParameters)
	if err != nil {
		return nil, err
	}
	var row *cairn.Resource
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var tier cairn.ProductTier
		err := tiers.scope(tx.NewSelect().Model(&tier), p).Where("?TableAlias.id = ?", in.TierID).Scan(ctx)
		if err != nil {
			return interpretError(err, "product tier "+quote(in.TierID))
		}
		if err := require(ctx, tx, p, cairn.RoleEditor, tier.ProviderTenantID, "Creating a resource"); err != nil {
			return err
		}
		id := cairn.NewID(cairn.PrefixResource)
		deps, err := checkDependencies(ctx, tx, tier.ID, id, in.DependencyIDs)
		if err != nil {
			return err
		}
		now := s.Now()
		row = &cairn.Resource{ID: id, ServiceID: tier.ServiceID, EnvironmentID: tier.EnvironmentID, ModelID: tier.ModelID, TierID: tier.ID,
			ProviderTenantID: tier.ProviderTenantID, Name: in.Name, Key: key, Description: in.Description, ResourceType: resourceType,
			Internal: in.Internal != nil && *in.Internal, InputParameters: inputs, OutputParameters: outputs, DependencyIDs: deps,
			CreatedAt: now, UpdatedAt: now, Version: 1}
		return insertCatalog(ctx, tx, row, "create resource",
			fmt.Sprintf("product tier %s already has a resource with key %q; choose another key", tier.ID, key))
	})
	if err != nil {
		return nil, err
	}
	return row, nil
}

// UpdateResource changes a resource. Nil fields stay as they are; non-nil
// parameter lists and dependencyIds replace the old ones whole. Returns
// UNAUTHENTICATED, BAD_USER_INPUT (also for dependencies outside the tier, on
// itself, or that would form a cycle), NOT_FOUND, CONFLICT for a stale
// expectedVersion, and FORBIDDEN without EDITOR on the provider.
func (s *Store) UpdateResource(ctx context.Context, in cairn.UpdateResourceInput) (*cairn.Resource, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if in.Name != nil {
		if err := nonEmpty(*in.Name, "input.name"); err != nil {
			return nil, err
		}
	}
	var inputs []cairn.InputParameter
	if in.InputParameters != nil {
		if inputs, err = checkInputParameters(in.InputParameters); err != nil {
			return nil, err
		}
	}
	var outputs []cairn.OutputParameter
	if in.OutputParameters != nil {
		if outputs, err = checkOutputParameters(in.OutputParameters); err != nil {
			return nil, err
		}
	}
	var row *cairn.Resource
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		row, err = lockForWrite(ctx, tx, p, resources, in.ID, in.ExpectedVersion)
		if err != nil {
			return err
		}
		if err := require(ctx, tx, p, cairn.RoleEditor, row.ProviderTenantID, "Updating a resource"); err != nil {
			return err
		}
		if in.DependencyIDs != nil {
			deps, err := checkDependencies(ctx, tx, row.TierID, row.ID, in.DependencyIDs)
			if err != nil {
				return err
			}
			if err := checkNoDependencyCycle(ctx, tx, row.TierID, row.ID, deps); err != nil {
				return err
			}
			row.DependencyIDs = deps
		}
		setCatalogField(&row.Name, in.Name)
		setCatalogField(&row.Description, in.Description)
		if inputs != nil {
			row.InputParameters = inputs
		}
		if outputs != nil {
			row.OutputParameters = outputs
		}
		err = saveVersioned(ctx, tx, row, s.Now())
		return interpretError(err, "update resource "+quote(row.ID))
	})
	if err != nil {
		return nil, err
	}
	return row, nil
}

// DeleteResource deletes a resource. Returns UNAUTHENTICATED, NOT_FOUND,
// CONFLICT for a stale expectedVersion, FORBIDDEN without EDITOR on the
// provider, and FAILED_PRECONDITION while it has instances or other resources
// depend on it.
func (s *Store) DeleteResource(ctx context.Context, in cairn.DeleteInput) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row, err := lockForWrite(ctx, tx, p, resources, in.ID, in.ExpectedVersion)
		if err != nil {
			return err
		}
		if err := require(ctx, tx, p, cairn.RoleEditor, row.ProviderTenantID, "Deleting a resource"); err != nil {
			return err
		}
		var dependents []string
		err = tx.NewSelect().Model((*cairn.Resource)(nil)).Column("id").
			Where("? = ANY(?TableAlias.dependency_ids)", row.ID).OrderExpr("?TableAlias.id").Scan(ctx, &dependents)
		if err != nil {
			return interpretError(err, "find dependent resources")
		}
		if len(dependents) > 0 {
			return cairn.Errorf(cairn.EFAILEDPRECONDITION, "resource %s is a dependency of %s (%s); remove it from their dependencyIds first (updateResource), then retry",
				quote(row.ID), catalogCount(int64(len(dependents)), "other resource"), strings.Join(dependents, ", "))
		}
		return deleteCatalog(ctx, tx, row, catalogSubtree{what: "resource " + quote(row.ID), id: row.ID, resourceCol: "id"})
	})
}

var tierRegionFields = [3]string{"input.awsRegions", "input.gcpRegions", "input.azureRegions"}

// checkTierRegions validates the region lists of a new tier and makes nil
// lists empty.
func checkTierRegions(regions *[3][]string) error {
	for i, field := range tierRegionFields {
		if regions[i] == nil {
			regions[i] = []string{}
		}
		if err := checkRegions(regions[i], field); err != nil {
			return err
		}
	}
	return nil
}

// checkRegions returns BAD_USER_INPUT naming the element of field at fault
// when a region is blank or listed twice.
func checkRegions(regions []string, field string) error {
	for i, r := range regions {
		if strings.TrimSpace(r) == "" {
			return cairn.FieldError(fmt.Sprintf("%s[%d]", field, i), "a region must not be empty; remove it or name a region such as us-east-1")
		}
		if j := slices.Index(regions, r); j < i {
			return cairn.FieldError(fmt.Sprintf("%s[%d]", field, i), "region %q is listed twice (also at %s[%d]); list each region once", r, field, j)
		}
	}
	return nil
}

func checkMaxInstances(n *int) error {
	if n != nil && *n < 0 {
		return cairn.FieldError("input.maxNumberOfInstances", "maxNumberOfInstances must be 0 or more, not %d; leave it out for no limit", *n)
	}
	return nil
}

// jsonObject returns m, or an empty map for nil, so that NOT NULL jsonb
// columns hold.
func jsonObject(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

var (
	catalogParamKeyPattern = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]*$`)
	catalogParamTypes      = []string{"String", "Number", "Boolean", "Float64", "Password"}
)

// checkInputParameters validates the input parameters of a resource and
// returns them, never nil. Returns BAD_USER_INPUT naming the parameter's field
// (input.inputParameters[2].key).
func checkInputParameters(ps []cairn.InputParameter) ([]cairn.InputParameter, error) {
	if ps == nil {
		return []cairn.InputParameter{}, nil
	}
	for i, ip := range ps {
		f := fmt.Sprintf("input.inputParameters[%d]", i)
		if !catalogParamKeyPattern.MatchString(ip.Key) {
			return nil, cairn.FieldError(f+".key", "parameter key %q must start with a letter and hold only letters, digits and _", ip.Key)
		}
		if j := slices.IndexFunc(ps, func(o cairn.InputParameter) bool { return o.Key == ip.Key }); j < i {
			return nil, cairn.FieldError(f+".key", "parameter key %q is already used by input.inputParameters[%d]; keys must be unique within the resource", ip.Key, j)
		}
		if err := nonEmpty(ip.Name, f+".name"); err != nil {
			return nil, err
		}
		if !slices.Contains(catalogParamTypes, ip.Type) {
			return nil, cairn.FieldError(f+".type", "parameter type %q is not one of %s", ip.Type, strings.Join(catalogParamTypes, ", "))
		}
		for j, o := range ip.Options {
			if k := slices.Index(ip.Options, o); k < j {
				return nil, cairn.FieldError(fmt.Sprintf("%s.options[%d]", f, j), "option %q is listed twice; list each option once", o)
			}
			if _, err := paramParse(&ip, o); err != nil {
				return nil, cairn.FieldError(fmt.Sprintf("%s.options[%d]", f, j), "option %q must be %s, as the parameter's type is %s", o, paramTypeName(&cairn.InputParameter{Type: ip.Type}), ip.Type)
			}
		}
		// The same parse instance creation applies (params.go), so that a
		// default accepted here never breaks a create later.
		if ip.DefaultValue != nil {
			if _, err := paramDefault(&ip); err != nil {
				want := paramTypeName(&ip)
				if len(ip.Options) > 0 {
					want += " from the options " + strings.Join(ip.Options, ", ")
				}
				return nil, cairn.FieldError(f+".defaultValue", "default value %q must be %s; change it or leave it out", *ip.DefaultValue, want)
			}
		}
	}
	return ps, nil
}

// checkOutputParameters validates the output parameters of a resource and
// returns them, never nil; an empty valueType becomes String.
func checkOutputParameters(ps []cairn.OutputParameter) ([]cairn.OutputParameter, error) {
	out := make([]cairn.OutputParameter, len(ps))
	for i, op := range ps {
		f := fmt.Sprintf("input.outputParameters[%d]", i)
		if err := nonEmpty(op.Key, f+".key"); err != nil {
			return nil, err
		}
		if j := slices.IndexFunc(ps, func(o cairn.OutputParameter) bool { return o.Key == op.Key }); j < i {
			return nil, cairn.FieldError(f+".key", "output key %q is already used by input.outputParameters[%d]; keys must be unique within the resource", op.Key, j)
		}
		if op.ValueType == "" {
			op.ValueType = "String"
		}
		out[i] = op
	}
	return out, nil
}

// checkDependencies checks that deps are distinct resources of the tier other
// than self, and returns them, never nil. It locks them (FOR KEY SHARE) so
// they cannot be deleted until tx ends.
func checkDependencies(ctx context.Context, tx bun.IDB, tierID, self string, deps []string) ([]string, error) {
	if len(deps) == 0 {
		return []string{}, nil
	}
	for i, d := range deps {
		f := fmt.Sprintf("input.dependencyIds[%d]", i)
		if d == self {
			return nil, cairn.FieldError(f, "a resource cannot depend on itself; remove %q", d)
		}
		if j := slices.Index(deps, d); j < i {
			return nil, cairn.FieldError(f, "%q is listed twice; list each dependency once", d)
		}
	}
	var found []string
	err := tx.NewSelect().Model((*cairn.Resource)(nil)).Column("id").
		Where("?TableAlias.tier_id = ? AND ?TableAlias.id IN (?)", tierID, bun.List(deps)).For("KEY SHARE").Scan(ctx, &found)
	if err != nil {
		return nil, interpretError(err, "check dependencies")
	}
	for i, d := range deps {
		if !slices.Contains(found, d) {
			return nil, cairn.FieldError(fmt.Sprintf("input.dependencyIds[%d]", i), "%q is not a resource of product tier %s; a resource can depend only on resources of its own tier", d, tierID)
		}
	}
	return deps, nil
}

// checkNoDependencyCycle returns BAD_USER_INPUT when giving resource self the
// dependencies deps would make it depend on itself through other resources
// of the tier.
func checkNoDependencyCycle(ctx context.Context, tx bun.IDB, tierID, self string, deps []string) error {
	var rows []struct {
		ID            string   `bun:"id"`
		DependencyIDs []string `bun:"dependency_ids,array"`
	}
	err := tx.NewSelect().Model((*cairn.Resource)(nil)).Column("id", "dependency_ids").
		Where("?TableAlias.tier_id = ?", tierID).Scan(ctx, &rows)
	if err != nil {
		return interpretError(err, "load dependencies")
	}
	graph := map[string][]string{self: deps}
	for _, r := range rows {
		if r.ID != self {
			graph[r.ID] = r.DependencyIDs
		}
	}
	seen := map[string]bool{}
	var reaches func(id string) bool
	reaches = func(id string) bool {
		if id == self {
			return true
		}
		if seen[id] {
			return false
		}
		seen[id] = true
		return slices.ContainsFunc(graph[id], reaches)
	}
	for i, d := range deps {
		if reaches(d) {
			return cairn.FieldError(fmt.Sprintf("input.dependencyIds[%d]", i), "%q already depends on resource %s, directly or through others; a dependency cycle cannot be deployed", d, self)
		}
	}
	return nil
}
