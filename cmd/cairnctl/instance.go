package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

var instanceKind = kind{
	name: "instance", typeName: "ResourceInstance", listField: "instances", filterType: "ResourceInstanceFilter",
	fields: `id status cloudProvider region networkType requestParams resultParams replicas
      resourceId resource { name } subscriptionId tenantId tenant { name } quarantineEndsAt createdAt updatedAt version`,
	listFields: `id status cloudProvider region resource { name } tenant { name } createdAt`,
	columns: []column{{"ID", "id"}, {"STATUS", "status"}, {"CLOUD", "cloudProvider"}, {"REGION", "region"},
		{"RESOURCE", "resource.name"}, {"TENANT", "tenant.name"}, {"CREATED", "createdAt"}},
}

func instanceCommand() *command {
	ld := listDescribe(instanceKind,
		"  cairnctl instance list\n  cairnctl instance list --status RUNNING,STOPPED --region us-east-1 -o json\n  cairnctl instance list --all -o yaml",
		"  cairnctl instance describe instance-um60g2esx\n  cairnctl instance describe --id instance-um60g2esx -o json",
		instanceFilters)
	return &command{
		name: "instance", summary: "Create, list, describe, change, act on and watch resource instances",
		subs: []*command{
			instanceCreateCommand(), ld[0], ld[1], instanceUpdateCommand(), instanceDeleteCommand(),
			instanceActionCommand("start", "Start a STOPPED instance", "RUNNING"),
			instanceActionCommand("stop", "Stop a RUNNING instance", "STOPPED"),
			instanceActionCommand("restart", "Restart a RUNNING instance", "RUNNING"),
			instanceActionCommand("failover", "Fail a RUNNING instance over to a replica", "RUNNING"),
			instanceActionCommand("restore", "Undo a delete while the instance is QUARANTINED", "RUNNING|STOPPED|FAILED"),
			instanceWatchCommand(), instanceEventsCommand(),
		},
	}
}

func instanceFilters(fs *flag.FlagSet) func() (map[string]any, error) {
	status := fs.String("status", "", "only in these statuses, comma-separated (RUNNING,STOPPED)")
	resource := fs.String("resource", "", "only of this resource (r-…)")
	sub := fs.String("subscription", "", "only of this subscription (sub-…)")
	tenant := fs.String("tenant", "", "only of this tenant (org-…)")
	service := fs.String("service", "", "only of this service (s-…)")
	tier := fs.String("tier", "", "only of this product tier (pt-…)")
	cloud := fs.String("cloud-provider", "", "only on this cloud (aws, gcp, azure)")
	region := fs.String("region", "", "only in this region")
	return func() (map[string]any, error) {
		f := map[string]any{}
		if *status != "" {
			var s []string
			for x := range strings.SplitSeq(*status, ",") {
				s = append(s, strings.ToUpper(strings.TrimSpace(x)))
			}
			f["status"] = s
		}
		setIf(f, "resourceId", *resource)
		setIf(f, "subscriptionId", *sub)
		setIf(f, "tenantId", *tenant)
		setIf(f, "serviceId", *service)
		setIf(f, "tierId", *tier)
		setIf(f, "cloudProvider", *cloud)
		setIf(f, "region", *region)
		return f, nil
	}
}

// params is a repeatable --param key=value flag.
type params map[string]any

func (p params) String() string { return "" }
func (p params) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, not %q", s)
	}
	p[k] = v
	return nil
}

// bodyKeys maps the keys a --body may use (seed 000's snake_case, or the
// API's camelCase) to the fields of CreateInstanceInput.
var bodyKeys = map[string]string{
	"cloud_provider": "cloudProvider", "cloudProvider": "cloudProvider",
	"region":       "region",
	"network_type": "networkType", "networkType": "networkType",
	"requestParams": "requestParams", "request_params": "requestParams",
	"resourceId": "resourceId", "resource_id": "resourceId",
	"subscriptionId": "subscriptionId", "subscription_id": "subscriptionId",
	"idempotencyKey": "idempotencyKey", "idempotency_key": "idempotencyKey",
}

// readBody decodes --body: inline JSON, @file, or - for stdin.
func (a *app) readBody(body string) (map[string]any, error) {
	raw := []byte(body)
	switch {
	case body == "-":
		b, err := io.ReadAll(a.stdin)
		if err != nil {
			return nil, err
		}
		raw = b
	case strings.HasPrefix(body, "@"):
		b, err := os.ReadFile(body[1:])
		if err != nil {
			return nil, usagef("--body: %v", err)
		}
		raw = b
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var in map[string]any
	if err := dec.Decode(&in); err != nil {
		return nil, usagef("--body is not a JSON object: %v", err)
	}
	out := map[string]any{}
	for k, v := range in {
		f, ok := bodyKeys[k]
		if !ok {
			known := make([]string, 0, len(bodyKeys))
			for k := range bodyKeys {
				known = append(known, k)
			}
			slices.Sort(known)
			return nil, usagef("--body has an unknown key %q; known keys: %s", k, strings.Join(known, ", "))
		}
		out[f] = v
	}
	return out, nil
}

// waitFlags are the flags of commands that can block until their work ends.
type waitFlags struct {
	wait    bool
	timeout time.Duration
}

func (w *waitFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&w.wait, "wait", false, "block until the operation ends (the instance reaches its target status, or is gone after delete)")
	fs.DurationVar(&w.timeout, "wait-timeout", 10*time.Minute, "longest --wait")
}

func instanceCreateCommand() *command {
	return &command{
		name: "create", summary: "Create an instance of a resource",
		example: `  cairnctl instance create --resource r-abc123 --body '{
    "cloud_provider": "aws",
    "region": "us-east-1",
    "requestParams": {"mysqlDatabase": "test", "mysqlUser": "test", "mysqlPassword": "strongpassword"}
  }'
  cairnctl instance create --resource r-abc123 --subscription sub-def456 --cloud-provider aws \
    --region us-east-1 --param mysqlDatabase=test --param mysqlUser=test --param mysqlPassword=secret --wait
  cairnctl instance create --resource r-abc123 --body @instance.json -o json

Without --subscription, cairnctl uses your one ACTIVE subscription to the resource's tier.`,
		setup: func(fs *flag.FlagSet) action {
			body := fs.String("body", "", `the request as JSON (seed 000's shape: {"cloud_provider", "region", "requestParams"}), @file, or - for stdin`)
			resource := fs.String("resource", "", "the resource to instantiate (r-…)")
			sub := fs.String("subscription", "", "the ACTIVE subscription to the resource's tier (sub-…)")
			cloud := fs.String("cloud-provider", "", "aws, gcp or azure")
			region := fs.String("region", "", "a region the tier offers")
			network := fs.String("network-type", "", "PUBLIC (default) or INTERNAL")
			key := fs.String("idempotency-key", "", "retrying with the same key and request returns the first result")
			ps := params{}
			fs.Var(ps, "param", "a request parameter key=value (repeatable; overrides --body)")
			var w waitFlags
			w.register(fs)
			return func(a *app, args []string) error {
				if len(args) > 0 {
					return usagef("create takes no arguments, got %q (use --body or flags)", args[0])
				}
				in := map[string]any{}
				if *body != "" {
					var err error
					if in, err = a.readBody(*body); err != nil {
						return err
					}
				}
				setIf(in, "resourceId", *resource)
				setIf(in, "subscriptionId", *sub)
				setIf(in, "cloudProvider", *cloud)
				setIf(in, "region", *region)
				setIf(in, "networkType", enum(*network))
				setIf(in, "idempotencyKey", *key)
				if len(ps) > 0 {
					rp, _ := in["requestParams"].(map[string]any)
					if rp == nil {
						rp = map[string]any{}
					}
					for k, v := range ps {
						rp[k] = v
					}
					in["requestParams"] = rp
				}
				for _, f := range []struct{ key, flag string }{{"resourceId", "--resource"}, {"cloudProvider", "--cloud-provider (or cloud_provider in --body)"}, {"region", "--region"}} {
					if s, _ := in[f.key].(string); s == "" {
						return usagef("missing %s", f.flag)
					}
				}
				if s, _ := in["subscriptionId"].(string); s == "" {
					id, err := a.subscriptionFor(in["resourceId"].(string))
					if err != nil {
						return err
					}
					in["subscriptionId"] = id
				}
				q := `mutation CreateInstance($input: CreateInstanceInput!) { createInstance(input: $input) { instance { ` + instanceKind.fields + ` } } }`
				var data struct {
					CreateInstance struct{ Instance map[string]any }
				}
				if err := a.do(q, map[string]any{"input": in}, &data); err != nil {
					return err
				}
				inst := data.CreateInstance.Instance
				if w.wait {
					status, _ := inst["status"].(string)
					return a.waitAndShow(inst["id"].(string), "RUNNING", status, w.timeout)
				}
				return a.emit(inst, nil)
			}
		},
	}
}

// subscriptionFor finds the caller's one ACTIVE subscription to the tier of
// a resource.
func (a *app) subscriptionFor(resourceID string) (string, error) {
	var data struct {
		Node map[string]any
	}
	if err := a.do(`query($id: ID!) { node(id: $id) { __typename ... on Resource { tierId } } }`, map[string]any{"id": resourceID}, &data); err != nil {
		return "", err
	}
	if data.Node == nil || data.Node["__typename"] != "Resource" {
		return "", notFound("resource", resourceID)
	}
	tier, _ := data.Node["tierId"].(string)
	var subs struct {
		ServiceSubscriptions struct{ Nodes []struct{ ID string } }
	}
	if err := a.do(`query($tier: ID!) { serviceSubscriptions(first: 2, filter: {tierId: $tier, status: ACTIVE}) { nodes { id } } }`, map[string]any{"tier": tier}, &subs); err != nil {
		return "", err
	}
	switch n := subs.ServiceSubscriptions.Nodes; len(n) {
	case 1:
		return n[0].ID, nil
	case 0:
		return "", &apiError{Code: "FAILED_PRECONDITION", Message: fmt.Sprintf("you have no ACTIVE subscription to tier %s of resource %s; subscribe first (cairnctl subscription create --tier %s)", tier, resourceID, tier)}
	}
	return "", usagef("you have several ACTIVE subscriptions to tier %s; pass --subscription (see cairnctl subscription list --tier %s)", tier, tier)
}

func instanceUpdateCommand() *command {
	return &command{
		name: "update", summary: "Change an instance's request parameters or network type", args: "<id>",
		example: `  cairnctl instance update instance-um60g2esx --param instanceType=large --wait
  cairnctl instance update instance-um60g2esx --body '{"requestParams": {"mysqlPassword": "new-secret"}}'`,
		setup: func(fs *flag.FlagSet) action {
			id := fs.String("id", "", "the instance (or give it as the argument)")
			body := fs.String("body", "", `changes as JSON ({"requestParams": {…}, "network_type": "INTERNAL"}), @file, or - for stdin`)
			network := fs.String("network-type", "", "PUBLIC or INTERNAL")
			key := fs.String("idempotency-key", "", "retrying with the same key and change returns the first result")
			ps := params{}
			fs.Var(ps, "param", "a request parameter key=value to change (repeatable)")
			var w waitFlags
			w.register(fs)
			return func(a *app, args []string) error {
				v, err := oneID(args, *id, "instance")
				if err != nil {
					return err
				}
				in := map[string]any{}
				if *body != "" {
					if in, err = a.readBody(*body); err != nil {
						return err
					}
				}
				input := map[string]any{"id": variable("id")}
				vars := map[string]any{"id": v}
				rp, _ := in["requestParams"].(map[string]any)
				for k, x := range ps {
					if rp == nil {
						rp = map[string]any{}
					}
					rp[k] = x
				}
				if rp != nil {
					input["requestParams"], vars["params"] = variable("params"), rp
				}
				if *network != "" {
					in["networkType"] = *network
				}
				if n, _ := in["networkType"].(string); n != "" {
					input["networkType"] = enum(strings.ToUpper(n))
				}
				if *key != "" {
					input["idempotencyKey"], vars["key"] = variable("key"), *key
				}
				if len(input) == 1 {
					return usagef("nothing to change: pass --param, --network-type or --body")
				}
				decl := "$id: ID!"
				if rp != nil {
					decl += ", $params: JSON"
				}
				if *key != "" {
					decl += ", $key: String"
				}
				q := fmt.Sprintf(`mutation UpdateInstance(%s) { updateInstance(input: %s) { instance { id status } operation { id status } } }`, decl, literal(input))
				return a.act(q, "updateInstance", v, "RUNNING", vars, w)
			}
		},
	}
}

func instanceActionCommand(verb, summary, target string) *command {
	field := verb + "Instance"
	return &command{
		name: verb, summary: summary, args: "<id>",
		example: fmt.Sprintf("  cairnctl instance %s instance-um60g2esx\n  cairnctl instance %s instance-um60g2esx --wait --wait-timeout 5m", verb, verb),
		setup: func(fs *flag.FlagSet) action {
			id := fs.String("id", "", "the instance (or give it as the argument)")
			key := fs.String("idempotency-key", "", "retrying with the same key returns the first result")
			var w waitFlags
			w.register(fs)
			return func(a *app, args []string) error {
				v, err := oneID(args, *id, "instance")
				if err != nil {
					return err
				}
				q := fmt.Sprintf(`mutation($id: ID!, $key: String) { %s(input: {id: $id, idempotencyKey: $key}) { instance { id status } operation { id status } } }`, field)
				vars := map[string]any{"id": v}
				if *key != "" {
					vars["key"] = *key
				}
				return a.act(q, field, v, target, vars, w)
			}
		},
	}
}

// act runs a lifecycle mutation whose payload is { instance operation },
// then waits for target if asked.
func (a *app) act(q, field, id, target string, vars map[string]any, w waitFlags) error {
	var data map[string]map[string]any
	if err := a.do(q, vars, &data); err != nil {
		return err
	}
	if w.wait {
		inst, _ := data[field]["instance"].(map[string]any)
		status, _ := inst["status"].(string)
		return a.waitAndShow(id, target, status, w.timeout)
	}
	return a.emit(data[field], nil)
}

func instanceDeleteCommand() *command {
	return &command{
		name: "delete", summary: "Delete an instance: into quarantine first, restorable until it ends", args: "<id>",
		example: `  cairnctl instance delete instance-um60g2esx            # QUARANTINED: restorable for the grace period
  cairnctl instance restore instance-um60g2esx           # undo
  cairnctl instance delete instance-um60g2esx --purge --wait   # delete for good, now`,
		setup: func(fs *flag.FlagSet) action {
			id := fs.String("id", "", "the instance (or give it as the argument)")
			key := fs.String("idempotency-key", "", "retrying with the same key returns the first result")
			purge := fs.Bool("purge", false, "delete for good now, not into quarantine (deletes a QUARANTINED instance)")
			var w waitFlags
			w.register(fs)
			return func(a *app, args []string) error {
				v, err := oneID(args, *id, "instance")
				if err != nil {
					return err
				}
				// The selection is __typename so that the command works with
				// every payload shape the API has had (DeletePayload, and
				// the lifecycle's instance and operation).
				input := map[string]any{"id": variable("id")}
				vars, decl := map[string]any{"id": v}, "$id: ID!"
				if *key != "" {
					input["idempotencyKey"], vars["key"], decl = variable("key"), *key, decl+", $key: String"
				}
				q := fmt.Sprintf(`mutation DeleteInstance(%s) { deleteInstance(input: %s) { __typename } }`, decl, literal(input))
				if err := a.do(q, vars, nil); err != nil {
					return err
				}
				status, err := a.instanceStatus(v)
				if err != nil {
					return err
				}
				if *purge && status == "QUARANTINED" {
					q = `mutation DeleteInstance($id: ID!) { deleteInstance(input: {id: $id}) { __typename } }`
					if err := a.do(q, map[string]any{"id": v}, nil); err != nil {
						return err
					}
					if status, err = a.instanceStatus(v); err != nil {
						return err
					}
				}
				if w.wait {
					target := "QUARANTINED|DELETED"
					if *purge {
						target = "DELETED"
					}
					return a.waitAndShow(v, target, status, w.timeout)
				}
				return a.showDeleted(v, status)
			}
		},
	}
}

// showDeleted prints the outcome of a delete: gone, quarantined (with when
// the quarantine ends), or still being deleted.
func (a *app) showDeleted(id, status string) error {
	out := map[string]any{"id": id, "status": status}
	if status == "QUARANTINED" {
		var data struct{ Node map[string]any }
		if err := a.do(`query($id: ID!) { node(id: $id) { ... on ResourceInstance { quarantineEndsAt } } }`, map[string]any{"id": id}, &data); err == nil && data.Node != nil {
			out["quarantineEndsAt"] = data.Node["quarantineEndsAt"]
		}
	}
	if err := a.emit(out, nil); err != nil {
		return err
	}
	if status == "QUARANTINED" && a.g.output == "table" {
		fmt.Fprintf(a.stderr, "Restore it with 'cairnctl instance restore %s', or delete it for good now with 'cairnctl instance delete %s --purge'.\n", id, id)
	}
	return nil
}

// instanceStatus returns an instance's status, DELETED once it is gone.
func (a *app) instanceStatus(id string) (string, error) {
	var data struct{ Node map[string]any }
	err := a.do(`query Status($id: ID!) { node(id: $id) { ... on ResourceInstance { status } } }`, map[string]any{"id": id}, &data)
	if ae, ok := err.(*apiError); ok && ae.Code == "NOT_FOUND" || err == nil && data.Node == nil {
		return "DELETED", nil
	} else if err != nil {
		return "", err
	}
	s, _ := data.Node["status"].(string)
	return s, nil
}

// wait polls an instance until it reaches target (DELETED for gone;
// QUARANTINED|DELETED for either), fails, or the timeout passes. Status
// changes are reported on stderr, from from (the status the action answered
// with; "" if unknown), so that a change faster than the first poll still
// shows where it started.
func (a *app) wait(id, target, from string, timeout time.Duration) (string, error) {
	targets := strings.Split(target, "|")
	deadline := time.Now().Add(timeout)
	last := from
	if from != "" {
		fmt.Fprintf(a.stderr, "%s  %s\n", id, from)
	}
	for {
		status, err := a.instanceStatus(id)
		if err != nil {
			return last, err
		}
		if status != last {
			fmt.Fprintf(a.stderr, "%s  %s\n", id, status)
			last = status
		}
		switch {
		case slices.Contains(targets, status):
			return status, nil
		case status == "FAILED":
			return status, &apiError{Code: "FAILED", Message: fmt.Sprintf("instance %s FAILED; see its events and operations", id)}
		case status == "DELETED":
			return status, notFound("instance", id)
		case time.Now().After(deadline):
			return status, fmt.Errorf("gave up after %s waiting for instance %s to be %s (it is %s); raise --wait-timeout", timeout, id, strings.Join(targets, " or "), status)
		}
		select {
		case <-a.ctx.Done():
			return status, a.ctx.Err()
		case <-time.After(a.pollEvery):
		}
	}
}

// waitAndShow waits, then prints the instance (or its deletion). from is
// the status the action answered with, if known.
func (a *app) waitAndShow(id, target, from string, timeout time.Duration) error {
	status, err := a.wait(id, target, from, timeout)
	if err != nil {
		return err
	}
	if status == "DELETED" || status == "QUARANTINED" {
		return a.showDeleted(id, status)
	}
	return a.describe(instanceKind, id)
}

var eventKind = kind{
	name: "event", typeName: "AuditEvent", listField: "auditEvents", filterType: "AuditEventFilter",
	listFields: `id time source type message instanceId previousStatus status operationId cursor`,
	columns: []column{{"TIME", "time"}, {"SOURCE", "source"}, {"TYPE", "type"}, {"FROM", "previousStatus"}, {"TO", "status"},
		{"MESSAGE", "message"}},
}

func instanceEventsCommand() *command {
	return &command{
		name: "events", summary: "List an instance's audit events, newest first", args: "<id>",
		example: `  cairnctl instance events instance-um60g2esx
  cairnctl instance events instance-um60g2esx --first 1 -o json   # the newest event's cursor, for watch --after`,
		setup: func(fs *flag.FlagSet) action {
			id := fs.String("id", "", "the instance (or give it as the argument)")
			var p paging
			p.register(fs)
			return func(a *app, args []string) error {
				v, err := oneID(args, *id, "instance")
				if err != nil {
					return err
				}
				return a.list(eventKind, p, map[string]any{"instanceId": v})
			}
		},
	}
}
