package main

import (
	"testing"
)

func TestParseNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		msg              string
		instance, status string
		typ              string
		ok               bool
	}{
		{"Cairn", `{"id":"1","type":"next","payload":{"data":{"instanceStatusChanged":{"instanceId":"i-1","status":"STOPPING"}},"extensions":{"sqlStatements":2}}}`, "i-1", "STOPPING", "next", true},
		{"OtherOrder", `{"type":"next","id":"1","payload":{"data":{"instanceStatusChanged":{"status":"RUNNING","instanceId":"i-2"}}}}`, "i-2", "RUNNING", "next", true},
		{"Escaped", `{"id":"1","type":"next","payload":{"data":{"instanceStatusChanged":{"instanceId":"i\u002d3","status":"RUNNING"}}}}`, "i-3", "RUNNING", "next", true},
		{"PrefixThenOther", `{"id":"1","type":"next","payload":{"data":{"instanceStatusChanged":{"instanceId":"i-4","status":"RUNNING","more":1}}}}`, "i-4", "RUNNING", "next", true},
		{"NoChange", `{"id":"1","type":"next","payload":{"data":null,"errors":[{"message":"no"}]}}`, "", "", "next", true},
		{"Ping", `{"type":"ping"}`, "", "", "ping", true},
		{"NotJSON", `{"id":"1","type":"next","payload":{"data":{"instanceStatusChanged":{"instanceId":"i-5"`, "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			instance, status, typ, ok := parseNext([]byte(tt.msg))
			if string(instance) != tt.instance || string(status) != tt.status || typ != tt.typ || ok != tt.ok {
				t.Errorf("parseNext = %q, %q, %q, %v; want %q, %q, %q, %v", instance, status, typ, ok, tt.instance, tt.status, tt.typ, tt.ok)
			}
		})
	}
}

func TestParseGauge(t *testing.T) {
	t.Parallel()
	body := []byte("# HELP cairn_subscriptions_active Open subscriptions.\n# TYPE cairn_subscriptions_active gauge\ncairn_subscriptions_active 10000\ncairn_subscriptions_active_total{x=\"1\"} 3\n")
	tests := []struct {
		name string
		want int
		ok   bool
	}{
		{"cairn_subscriptions_active", 10000, true},
		{"cairn_missing", 0, false},
	}
	for _, tt := range tests {
		got, err := parseGauge(body, tt.name)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("parseGauge(%s) = %d, %v; want %d (ok %v)", tt.name, got, err, tt.want, tt.ok)
		}
	}
}
