package events

// SameTenants reports whether two subscribers share one set of readable
// tenants.
func SameTenants(a, b *Sub) bool { return a.tenants == b.tenants }
