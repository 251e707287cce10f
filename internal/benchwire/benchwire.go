// Package benchwire is what cmd/cairnbench prints with -json and
// bench/harness reads: one definition for both ends of the pipe.
package benchwire

// Load is what a run of HTTP requests measured. Latencies are in
// milliseconds.
type Load struct {
	Connections   int     `json:"connections"`
	Seconds       float64 `json:"seconds"`
	Requests      int64   `json:"requests"`
	Errors        int64   `json:"errors"`
	RPS           float64 `json:"rps"`
	P50           float64 `json:"p50_ms"`
	P90           float64 `json:"p90_ms"`
	P99           float64 `json:"p99_ms"`
	Max           float64 `json:"max_ms"`
	Mean          float64 `json:"mean_ms"`
	SQLStatements int     `json:"sql_statements"`
	ResponseBytes int     `json:"response_bytes"`
	FirstError    string  `json:"first_error,omitempty"`
}

// Live is what workload 5 measured. Latencies are in milliseconds, from
// sending the mutation that commits the change (its response time is
// MutationMS) to the last subscriber's delivery; Delivery* are over every
// delivery of every round.
type Live struct {
	Subscribers   int       `json:"subscribers"`
	Rounds        int       `json:"rounds"`
	Missed        int       `json:"missed"` // deliveries that did not arrive within 30 s
	LastP50       float64   `json:"last_p50_ms"`
	LastP99       float64   `json:"last_p99_ms"`
	Lasts         []float64 `json:"last_ms"`   // each round's, in order
	WarmupMS      float64   `json:"warmup_ms"` // the last delivery of the uncounted first round
	DeliveryP50   float64   `json:"delivery_p50_ms"`
	DeliveryP99   float64   `json:"delivery_p99_ms"`
	MutationMS    float64   `json:"mutation_ms"`
	RSSBefore     int64     `json:"rss_before_bytes"`
	RSSAfter      int64     `json:"rss_after_bytes"`
	BytesPerSub   float64   `json:"bytes_per_subscriber"`
	SubscribeSecs float64   `json:"subscribe_seconds"`
	FirstError    string    `json:"first_error,omitempty"`
}
