package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// statusSubscription returns the live-status subscription of issue 4 with
// the filter fields and arguments that are set, so that no input type name
// is needed.
func statusSubscription(ids []string, service, tenant, after string) (string, map[string]any) {
	filter := map[string]any{}
	vars := map[string]any{}
	var decls []string
	add := func(field, name, typ string, v any) {
		filter[field], vars[name] = variable(name), v
		decls = append(decls, "$"+name+": "+typ)
	}
	if len(ids) > 0 {
		add("instanceIds", "ids", "[ID!]", ids)
	}
	if service != "" {
		add("serviceId", "service", "ID", service)
	}
	if tenant != "" {
		add("tenantId", "tenant", "ID", tenant)
	}
	args := "filter: " + literal(filter)
	if after != "" {
		vars["after"] = after
		decls = append(decls, "$after: String")
		args += ", after: $after"
	}
	decl := ""
	if len(decls) > 0 {
		decl = "(" + strings.Join(decls, ", ") + ")"
	}
	return fmt.Sprintf(`subscription Watch%s {
  instanceStatusChanged(%s) { instanceId instance { id status } previousStatus status at cursor }
}`, decl, args), vars
}

func instanceWatchCommand() *command {
	return &command{
		name: "watch", summary: "Stream instances' status changes live (graphql-ws)", args: "[<id>…]",
		example: `  cairnctl instance watch instance-um60g2esx
  cairnctl instance watch instance-um60g2esx --until RUNNING
  cairnctl instance watch --service s-abc123 -o json      # one JSON object a line
  cairnctl instance watch instance-um60g2esx --after <cursor>   # replay since a cursor, then live

Runs until --until is reached, the server ends the stream, or Ctrl-C.`,
		setup: func(fs *flag.FlagSet) action {
			until := fs.String("until", "", "stop once an instance reaches this status (e.g. RUNNING)")
			after := fs.String("after", "", "first replay the changes after this cursor (from an earlier watch)")
			service := fs.String("service", "", "only instances of this service (s-…)")
			tenant := fs.String("tenant", "", "only instances of this tenant (org-…)")
			return func(a *app, args []string) error {
				query, vars := statusSubscription(args, *service, *tenant, *after)
				return a.watch(query, vars, strings.ToUpper(*until))
			}
		},
	}
}

// wsMessage is a message of the graphql-transport-ws protocol.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// wsURL turns the HTTP endpoint into its websocket twin.
func wsURL(endpoint string) string {
	switch {
	case strings.HasPrefix(endpoint, "https://"):
		return "wss://" + strings.TrimPrefix(endpoint, "https://")
	case strings.HasPrefix(endpoint, "http://"):
		return "ws://" + strings.TrimPrefix(endpoint, "http://")
	}
	return endpoint
}

// watch subscribes to instanceStatusChanged over graphql-transport-ws and
// prints each change until one reaches until ("" for never), the server
// completes the stream, or the context ends.
func (a *app) watch(query string, vars map[string]any, until string) error {
	c, err := a.client(true)
	if err != nil {
		return err
	}
	url := wsURL(c.url)
	dialCtx, cancel := context.WithTimeout(a.ctx, c.timeout)
	defer cancel()
	conn, res, err := websocket.Dial(dialCtx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		if res != nil && res.StatusCode != http.StatusSwitchingProtocols {
			return fmt.Errorf("%s does not serve live subscriptions (it answered %s to a websocket upgrade); instance watch needs a Cairn with graphql-ws at /graphql", url, res.Status)
		}
		return fmt.Errorf("cannot open a websocket to %s: %w", url, err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 20)
	if conn.Subprotocol() != "graphql-transport-ws" {
		return fmt.Errorf("%s does not speak graphql-transport-ws", url)
	}
	if c.verbose != nil {
		fmt.Fprintf(c.verbose, "> websocket %s (graphql-transport-ws)\n", url)
	}
	send := func(m wsMessage) error {
		if c.verbose != nil {
			fmt.Fprintf(c.verbose, "> %s %s\n", m.Type, c.redact(m.Payload))
		}
		ctx, cancel := context.WithTimeout(a.ctx, c.timeout)
		defer cancel()
		return wsjson.Write(ctx, conn, m)
	}
	raw := func(v any) json.RawMessage { b, _ := json.Marshal(v); return b }
	if err := send(wsMessage{Type: "connection_init", Payload: raw(map[string]any{"Authorization": "Bearer " + c.token})}); err != nil {
		return err
	}
	ackCtx, cancelAck := context.WithTimeout(a.ctx, c.timeout)
	defer cancelAck()
	acked := false
	for !acked {
		var m wsMessage
		if err := wsjson.Read(ackCtx, conn, &m); err != nil {
			return closeError(url, err, "waiting for connection_ack")
		}
		switch m.Type {
		case "connection_ack":
			acked = true
		case "ping":
			if err := send(wsMessage{Type: "pong"}); err != nil {
				return err
			}
		}
	}
	if err := send(wsMessage{ID: "1", Type: "subscribe", Payload: raw(map[string]any{"query": query, "variables": vars})}); err != nil {
		return err
	}
	for {
		var m wsMessage
		if err := wsjson.Read(a.ctx, conn, &m); err != nil {
			if a.ctx.Err() != nil {
				conn.Close(websocket.StatusNormalClosure, "")
				return nil // interrupted: a normal end of a watch
			}
			return closeError(url, err, "watching")
		}
		if c.verbose != nil {
			fmt.Fprintf(c.verbose, "< %s %s\n", m.Type, m.Payload)
		}
		switch m.Type {
		case "ping":
			if err := send(wsMessage{Type: "pong"}); err != nil {
				return err
			}
		case "error":
			var errs gqlResponse
			_ = json.Unmarshal([]byte(`{"errors":`+string(m.Payload)+`}`), &errs)
			return graphqlError(errs)
		case "complete":
			return nil
		case "next":
			var r gqlResponse
			if err := json.Unmarshal(m.Payload, &r); err != nil {
				return fmt.Errorf("bad next message: %w", err)
			}
			if len(r.Errors) > 0 {
				return graphqlError(r)
			}
			var data struct{ InstanceStatusChanged map[string]any }
			if err := json.Unmarshal(r.Data, &data); err != nil {
				return err
			}
			ev := data.InstanceStatusChanged
			if err := a.printEvent(ev); err != nil {
				return err
			}
			if until != "" && ev["status"] == until {
				_ = send(wsMessage{ID: "1", Type: "complete"})
				conn.Close(websocket.StatusNormalClosure, "")
				return nil
			}
		}
	}
}

// printEvent prints one status change: a line in table format, one JSON
// object a line in json, one document each in yaml.
func (a *app) printEvent(ev map[string]any) error {
	switch a.g.output {
	case "json":
		b, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(a.stdout, "%s\n", b)
		return err
	case "yaml":
		var b strings.Builder
		b.WriteString("---\n")
		writeYAML(&b, ev, 0)
		_, err := fmt.Fprint(a.stdout, b.String())
		return err
	}
	at := cell(ev["at"])
	if t, err := time.Parse(time.RFC3339Nano, at); err == nil {
		at = t.Local().Format("15:04:05.000")
	}
	_, err := fmt.Fprintf(a.stdout, "%s  %s  %s → %s\n", at, cell(ev["instanceId"]), cell(ev["previousStatus"]), cell(ev["status"]))
	return err
}

// graphqlError returns the first error of a response as an *apiError.
func graphqlError(r gqlResponse) error {
	if len(r.Errors) == 0 {
		return errors.New("the server ended the subscription with an error")
	}
	e := r.Errors[0]
	ae := &apiError{Message: e.Message, Code: "UNKNOWN"}
	if code, _ := e.Extensions["code"].(string); code != "" {
		ae.Code = code
	}
	ae.Field, _ = e.Extensions["field"].(string)
	return ae
}

// closeError explains why the websocket ended, with the close reason the
// server gave (graphql-transport-ws closes with 4401 Unauthorized, 4403
// Forbidden, 4400 for a bad message).
func closeError(url string, err error, doing string) error {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		switch ce.Code {
		case 4401:
			return &apiError{Code: "UNAUTHENTICATED", Message: "the server refused the token for live subscriptions: " + ce.Reason}
		case 4403:
			return &apiError{Code: "FORBIDDEN", Message: ce.Reason}
		case websocket.StatusNormalClosure:
			return nil
		}
		return fmt.Errorf("%s closed the connection while %s: %d %s", url, doing, ce.Code, ce.Reason)
	}
	return fmt.Errorf("%s while %s: %w", url, doing, err)
}
