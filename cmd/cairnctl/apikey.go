package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

var apikeyKind = kind{
	name: "apikey", typeName: "ApiKey", listField: "apiKeys", filterType: "ApiKeyFilter",
	fields:     `id name tenantId role prefix expiresAt lastUsedAt revokedAt createdAt updatedAt version`,
	listFields: `id name tenantId role prefix expiresAt lastUsedAt revokedAt`,
	columns: []column{{"ID", "id"}, {"NAME", "name"}, {"TENANT", "tenantId"}, {"ROLE", "role"}, {"PREFIX", "prefix"},
		{"EXPIRES", "expiresAt"}, {"LAST USED", "lastUsedAt"}, {"REVOKED", "revokedAt"}},
}

// apikeyCommand targets the API-key mutations of issue 3: createApiKey,
// updateApiKey and revokeApiKey, and the apiKeys connection.
func apikeyCommand() *command {
	ld := listDescribe(apikeyKind,
		"  cairnctl apikey list\n  cairnctl apikey list --tenant org-abc123 --revoked=false",
		"  cairnctl apikey describe apikey-abc123",
		func(fs *flag.FlagSet) func() (map[string]any, error) {
			tenant := fs.String("tenant", "", "only keys of this tenant (org-…)")
			revoked := fs.String("revoked", "", "true: only revoked keys; false: only usable ones")
			return func() (map[string]any, error) {
				f := map[string]any{}
				setIf(f, "tenantId", *tenant)
				switch *revoked {
				case "":
				case "true", "false":
					f["revoked"] = *revoked == "true"
				default:
					return nil, usagef("--revoked must be true or false")
				}
				return f, nil
			}
		})
	// The API has no apiKey(id:) query: describe finds the key in the list.
	ld[1].setup = func(fs *flag.FlagSet) action {
		id := fs.String("id", "", "the key (or give it as the argument)")
		return func(a *app, args []string) error {
			v, err := oneID(args, *id, "API key")
			if err != nil {
				return err
			}
			q := `query($after: String) { apiKeys(first: 500, after: $after) { pageInfo { hasNextPage endCursor } nodes { ` + apikeyKind.fields + ` } } }`
			vars := map[string]any{}
			for {
				var data struct {
					ApiKeys struct {
						PageInfo struct {
							HasNextPage bool
							EndCursor   string
						}
						Nodes []map[string]any
					}
				}
				if err := a.do(q, vars, &data); err != nil {
					return err
				}
				for _, k := range data.ApiKeys.Nodes {
					if k["id"] == v {
						return a.emit(k, nil)
					}
				}
				if !data.ApiKeys.PageInfo.HasNextPage {
					return notFound("API key", v)
				}
				vars["after"] = data.ApiKeys.PageInfo.EndCursor
			}
		}
	}
	create := &command{
		name: "create", summary: "Mint an API key (the secret is shown once)",
		example: `  cairnctl apikey create --name billing-sync --tenant org-abc123 --role READER --expires 720h
  KEY=$(cairnctl apikey create --name ci --tenant org-abc123 --role EDITOR -o json | jq -r .secret)
  cairnctl --token "$KEY" instance list`,
		setup: func(fs *flag.FlagSet) action {
			name := fs.String("name", "", "what the key is for")
			tenant := fs.String("tenant", "", "the tenant the key acts in (org-…); default your home tenant")
			role := fs.String("role", "READER", "ADMIN, EDITOR or READER")
			expires := fs.String("expires", "", "when it expires: a duration from now (720h) or a time (2027-01-01T00:00:00Z); default never")
			return func(a *app, args []string) error {
				if len(args) > 0 || *name == "" {
					return usagef("give --name (and no arguments)")
				}
				t := *tenant
				if t == "" {
					var err error
					if t, err = a.homeTenant(); err != nil {
						return err
					}
				}
				input := map[string]any{"name": variable("name"), "tenantId": variable("tenant"), "role": enum(strings.ToUpper(*role))}
				vars := map[string]any{"name": *name, "tenant": t}
				decl := "$name: String!, $tenant: ID!"
				if *expires != "" {
					at, err := parseWhen(*expires)
					if err != nil {
						return err
					}
					input["expiresAt"], vars["expires"], decl = variable("expires"), at.UTC().Format(time.RFC3339), decl+", $expires: Time"
				}
				q := fmt.Sprintf(`mutation CreateApiKey(%s) { createApiKey(input: %s) { apiKey { %s } secret } }`, decl, literal(input), apikeyKind.fields)
				var data struct{ CreateApiKey map[string]any }
				if err := a.do(q, vars, &data); err != nil {
					return err
				}
				if a.g.output == "table" {
					writeFields(a.stdout, data.CreateApiKey["apiKey"])
					fmt.Fprintf(a.stdout, "\nsecret: %v\n\nThe secret is shown only now: store it. Use it as --token or CAIRN_TOKEN.\n", data.CreateApiKey["secret"])
					return nil
				}
				return a.emit(data.CreateApiKey, nil)
			}
		},
	}
	revoke := &command{
		name: "revoke", summary: "Revoke an API key; it stops working at once", args: "<id>",
		example: "  cairnctl apikey revoke apikey-abc123",
		setup: func(fs *flag.FlagSet) action {
			id := fs.String("id", "", "the key (or give it as the argument)")
			return func(a *app, args []string) error {
				v, err := oneID(args, *id, "API key")
				if err != nil {
					return err
				}
				var data struct {
					RevokeApiKey struct{ ApiKey map[string]any }
				}
				q := `mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { ` + apikeyKind.fields + ` } } }`
				if err := a.do(q, map[string]any{"id": v}, &data); err != nil {
					return err
				}
				return a.emit(data.RevokeApiKey.ApiKey, nil)
			}
		},
	}
	expire := &command{
		name: "expire", summary: "Set when an API key expires (now by default)", args: "<id>",
		example: "  cairnctl apikey expire apikey-abc123\n  cairnctl apikey expire apikey-abc123 --at 24h",
		setup: func(fs *flag.FlagSet) action {
			id := fs.String("id", "", "the key (or give it as the argument)")
			at := fs.String("at", "0s", "when: a duration from now (24h) or a time (2027-01-01T00:00:00Z)")
			return func(a *app, args []string) error {
				v, err := oneID(args, *id, "API key")
				if err != nil {
					return err
				}
				when, err := parseWhen(*at)
				if err != nil {
					return err
				}
				var data struct {
					UpdateApiKey struct{ ApiKey map[string]any }
				}
				q := `mutation($id: ID!, $at: Time) { updateApiKey(input: {id: $id, expiresAt: $at}) { apiKey { ` + apikeyKind.fields + ` } } }`
				if err := a.do(q, map[string]any{"id": v, "at": when.UTC().Format(time.RFC3339)}, &data); err != nil {
					return err
				}
				return a.emit(data.UpdateApiKey.ApiKey, nil)
			}
		},
	}
	return &command{name: "apikey", summary: "Mint, list, describe, expire and revoke API keys of partner integrations",
		subs: []*command{create, ld[0], ld[1], expire, revoke}}
}

// parseWhen reads a duration from now or an RFC 3339 time.
func parseWhen(s string) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usagef("%q is neither a duration (720h) nor a time (2027-01-01T00:00:00Z)", s)
	}
	return t, nil
}

// homeTenant returns the signed-in principal's home tenant.
func (a *app) homeTenant() (string, error) {
	var data struct {
		Viewer *struct{ Tenant *struct{ ID string } }
	}
	if err := a.do(`{ viewer { tenant { id } } }`, nil, &data); err != nil {
		return "", err
	}
	if data.Viewer == nil || data.Viewer.Tenant == nil {
		return "", usagef("cannot tell your home tenant; pass --tenant")
	}
	return data.Viewer.Tenant.ID, nil
}

func operationsCommand() *command {
	push := &command{
		name: "push", summary: "Register a client's persisted-operation manifest (Apollo or Relay)", args: "<manifest.json>",
		example: `  cairnctl operations push persisted-query-manifest.json --client partner-app
  cairnctl operations push relay-queries.json --client web --tenant org-abc123 --format relay

An Apollo manifest is {"format": "apollo-persisted-query-manifest", "version": 1,
"operations": [{"id", "name", "type", "body"}]}; a Relay one is {"<id>": "<text>"}.
The format is detected unless --format says it. Clients then call an operation by
its id (extensions.persistedQuery), sending their name in X-Cairn-Client.`,
		setup: func(fs *flag.FlagSet) action {
			client := fs.String("client", "", "the client's name, as its requests send it in X-Cairn-Client")
			tenant := fs.String("tenant", "", "the tenant owning the client; default your home tenant")
			format := fs.String("format", "", "apollo or relay; default detected")
			return func(a *app, args []string) error {
				if len(args) != 1 {
					return usagef("give the manifest file (or - for stdin)")
				}
				if *client == "" {
					return usagef("missing --client")
				}
				raw, err := a.readFile(args[0])
				if err != nil {
					return err
				}
				dec := json.NewDecoder(bytes.NewReader(raw))
				dec.UseNumber()
				var manifest map[string]any
				if err := dec.Decode(&manifest); err != nil {
					return usagef("%s is not a JSON object: %v", args[0], err)
				}
				f := strings.ToUpper(*format)
				if f == "" {
					f = "RELAY"
					if manifest["format"] == "apollo-persisted-query-manifest" {
						f = "APOLLO"
					}
				}
				t := *tenant
				if t == "" {
					if t, err = a.homeTenant(); err != nil {
						return err
					}
				}
				in := map[string]any{"tenantId": t, "clientName": *client, "format": f, "manifest": manifest}
				var data struct{ RegisterOperations map[string]any }
				q := `mutation($input: RegisterOperationsInput!) { registerOperations(input: $input) { clientName registered unchanged } }`
				if err := a.do(q, map[string]any{"input": in}, &data); err != nil {
					return err
				}
				return a.emit(data.RegisterOperations, nil)
			}
		},
	}
	only := &command{
		name: "persisted-only", summary: "Allow an API key or a client only registered operations (or lift that)",
		example: `  cairnctl operations persisted-only --client partner-app
  cairnctl operations persisted-only --api-key apikey-abc123 --enabled=false`,
		setup: func(fs *flag.FlagSet) action {
			client := fs.String("client", "", "the client to restrict")
			key := fs.String("api-key", "", "the API key to restrict (apikey-…)")
			tenant := fs.String("tenant", "", "the tenant deciding (you need ADMIN on it); default your home tenant")
			enabled := fs.Bool("enabled", true, "true: registered operations only; false: any")
			return func(a *app, args []string) error {
				if len(args) > 0 || (*client == "") == (*key == "") {
					return usagef("give either --client or --api-key (and no arguments)")
				}
				t := *tenant
				if t == "" {
					var err error
					if t, err = a.homeTenant(); err != nil {
						return err
					}
				}
				in := map[string]any{"tenantId": t, "enabled": *enabled}
				setIf(in, "clientName", *client)
				setIf(in, "apiKeyId", *key)
				var data struct{ SetPersistedOnly map[string]any }
				q := `mutation($input: SetPersistedOnlyInput!) { setPersistedOnly(input: $input) { apiKeyId clientName enabled } }`
				if err := a.do(q, map[string]any{"input": in}, &data); err != nil {
					return err
				}
				return a.emit(data.SetPersistedOnly, nil)
			}
		},
	}
	return &command{name: "operations", summary: "Register persisted operations (trusted documents) of a client", subs: []*command{push, only}}
}

// readFile reads a named file, or stdin for "-".
func (a *app) readFile(name string) ([]byte, error) {
	if name == "-" {
		var b bytes.Buffer
		_, err := b.ReadFrom(a.stdin)
		return b.Bytes(), err
	}
	raw, err := os.ReadFile(name)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return raw, nil
}
