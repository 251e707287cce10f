DROP TABLE signing_keys, idempotency_keys, resource_instances, service_subscriptions,
    resources, product_tiers, service_models, service_environments, services,
    role_bindings, users, tenants;
