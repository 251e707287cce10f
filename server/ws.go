package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/events"
	"github.com/cairn-dev/cairn/internal/intern"
	"github.com/cairn-dev/cairn/persisted"
	"github.com/cairn-dev/cairn/store"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// wsTransport is Cairn's websocket transport for gqlgen: graphql-transport-ws
// and the older graphql-ws (subprotocol "graphql-ws", or none). gqlgen's own
// runs four goroutines per connection and one per subscription; this one
// runs one per connection, which reads the client's messages. A
// subscription has none: its resolver hands the connection a pump
// (events.Driver), the bus calls ready when an event waits, and a goroutine
// of the connection that lives only while it has something to send runs
// gqlgen's response handler (which then never waits) and writes the frame.
// Keepalives and the init timeout are timers. The handler that accepted the
// connection returns, so net/http's buffers of the connection go with it.
type wsTransport struct {
	origins []string
	// init authenticates connection_init's payload and returns the
	// connection's context and what ends it; an error refuses the
	// connection with 4403 and the error's message.
	init         func(context.Context, transport.InitPayload) (context.Context, context.CancelCauseFunc, error)
	initTimeout  time.Duration
	keepAlive    time.Duration // a ping (graphql-transport-ws) or ka (graphql-ws) this often
	writeTimeout time.Duration // a client that takes longer to accept a frame is disconnected
	readLimit    int64
	log          *slog.Logger
	sharing      bool // shareResponses is installed: set before the first connection

	mu       sync.Mutex
	conns    map[*wsConn]struct{} // open connections; guarded by mu
	shutdown bool                 // guarded by mu

	// groups are the identical subscriptions by shareKey; an entry goes
	// when its group's last subscription does.
	groups intern.Pool[shareGroup]
}

var _ graphql.Transport = (*wsTransport)(nil)

const (
	gtwsProtocol = "graphql-transport-ws"
	gwsProtocol  = "graphql-ws"

	// wsReadBuffer and wsWriteBuffer size a connection's buffers (net/http
	// keeps 4 KiB each); client messages and frames are small, and larger
	// ones bypass the buffers. The websocket library writes only control
	// and close frames through its buffer (the transport writes the
	// messages), at most 127 bytes each (2 of header, 125 of payload): one
	// Write each, so they never interleave with the transport's frames.
	wsReadBuffer  = 256
	wsWriteBuffer = 160

	// revokedReason closes a connection whose credentials a recheck refused.
	revokedReason = "your credentials are no longer accepted (expired token, disabled user or revoked key): sign in again and reconnect"
)

// graphql-transport-ws close codes.
const (
	closeBadMessage   websocket.StatusCode = 4400
	closeUnauthorized websocket.StatusCode = 4401
	closeForbidden    websocket.StatusCode = 4403
	closeInitTimeout  websocket.StatusCode = 4408
	closeDuplicateID  websocket.StatusCode = 4409
	closeTooManyInits websocket.StatusCode = 4429
)

func (t *wsTransport) Supports(r *http.Request) bool { return r.Header.Get("Upgrade") != "" }

func (t *wsTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	lw := &leanHijacker{ResponseWriter: w}
	ws, err := websocket.Accept(lw, r, &websocket.AcceptOptions{
		Subprotocols:   []string{gtwsProtocol, gwsProtocol},
		OriginPatterns: t.origins,
	})
	if err != nil {
		return // Accept answered the request
	}
	if t.readLimit > 0 {
		ws.SetReadLimit(t.readLimit)
	}
	legacy := ws.Subprotocol() != gtwsProtocol
	// The connection outlives the request: keep its values, not its end.
	// (Until connection_init there is nothing to cancel.)
	ctx := context.WithValue(context.WithoutCancel(r.Context()), wsKey{}, true)
	// Of the request's headers the operations read only the client's name
	// (persisted operations); the rest would be kept for as long as the
	// connection lasts.
	headers := http.Header{}
	for _, h := range persisted.ClientHeaders {
		if v := r.Header.Values(h); len(v) > 0 {
			headers[http.CanonicalHeaderKey(h)] = v
		}
	}
	c := &wsConn{t: t, ws: ws, net: lw.conn, out: lw.out, br: lw.br, pending: lw.pending, exec: exec, headers: headers, legacy: legacy, ctx: ctx, ops: map[string]*wsOp{}}
	if legacy {
		c.names = gwsNames
	} else {
		c.names = gtwsNames
	}
	t.mu.Lock()
	if t.shutdown {
		t.mu.Unlock()
		c.close(websocket.StatusGoingAway, "the server is shutting down")
		return
	}
	if t.conns == nil {
		t.conns = map[*wsConn]struct{}{}
	}
	t.conns[c] = struct{}{}
	t.mu.Unlock()
	go c.serve()
}

// closeAll closes every connection (1000) and refuses new ones.
func (t *wsTransport) closeAll() {
	t.mu.Lock()
	t.shutdown = true
	conns := t.conns
	t.conns = nil
	t.mu.Unlock()
	for c := range conns {
		c.close(websocket.StatusNormalClosure, "the server is shutting down")
	}
}

// wsKey marks the context of an operation that came over a websocket.
type wsKey struct{}

// overWebsocket reports whether ctx is that of a websocket's operation.
func overWebsocket(ctx context.Context) bool { return ctx.Value(wsKey{}) != nil }

// leanHijacker hands the websocket small buffers of its own instead of
// net/http's 4 KiB reader and writer, and keeps the net.Conn.
type leanHijacker struct {
	http.ResponseWriter
	conn    net.Conn
	out     *lockedConn   // what the websocket writes to
	br      *bufio.Reader // the websocket's reader
	pending bool          // the client sent bytes before the upgrade's answer
}

func (l *leanHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(l.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	l.conn = conn
	l.out = &lockedConn{Conn: conn}
	br := brw.Reader
	l.pending = br.Buffered() > 0
	if n := br.Buffered(); n <= wsReadBuffer {
		// What the client sent after its request is read first.
		b, _ := br.Peek(n)
		br = bufio.NewReaderSize(bytes.NewReader(bytes.Clone(b)), wsReadBuffer)
		if _, err := br.Peek(n); err != nil && n > 0 {
			return nil, nil, err
		}
	}
	l.br = br
	return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(l.out, wsWriteBuffer)), nil
}

// lockedConn is the connection as the websocket library writes to it: the
// library writes only control and close frames, each in one Write (the
// frames are smaller than its buffer), and the transport writes its
// messages' frames itself (wsConn.write); both hold mu, so frames never
// interleave.
type lockedConn struct {
	net.Conn
	mu       sync.Mutex
	deadline int64 // the write deadline last set, UnixNano; guarded by mu
}

func (l *lockedConn) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.Conn.Write(p)
}

// wsNames are the message types of a protocol.
type wsNames struct {
	subscribe, stop, next, err, complete string
}

var (
	gtwsNames = wsNames{subscribe: "subscribe", stop: "complete", next: "next", err: "error", complete: "complete"}
	gwsNames  = wsNames{subscribe: "start", stop: "stop", next: "data", err: "error", complete: "complete"}
)

// wsConn is one websocket.
type wsConn struct {
	t       *wsTransport
	ws      *websocket.Conn
	net     net.Conn
	out     *lockedConn   // frames are written to it
	br      *bufio.Reader // ws reads through it
	rmu     sync.Mutex    // held by serve to look into br and by the close handshake, which reads it
	pending bool          // bytes came before the upgrade: read before waiting
	exec    graphql.GraphExecutor
	headers http.Header
	legacy  bool // graphql-ws
	names   wsNames
	stopped atomic.Bool // stop ran: no more frames

	ctx    context.Context         // the request's values
	cancel context.CancelCauseFunc // ends opCtx; set once acked, guarded by mu

	mu      sync.Mutex
	acked   bool             // connection_init was accepted; guarded by mu
	inited  bool             // connection_init was received; guarded by mu
	closing bool             // guarded by mu
	ops     map[string]*wsOp // running operations by ID; guarded by mu
	ready   []*wsOp          // subscriptions with something to send, from head; guarded by mu
	head    int              // guarded by mu
	writing bool             // a goroutine drains ready; guarded by mu
	timer   *time.Timer      // the init timeout, then the keepalive; guarded by mu
	opCtx   context.Context  // the context operations start from, once acked; guarded by mu

	// stmts counts the connection's SQL statements; the transport writes
	// each response's extensions.sqlStatements from it (wsInit marks the
	// connection's edge state so that reportStatements does not).
	stmts *store.StatementCounter
}

// wsMessage is a message of either protocol.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// serve reads the client's messages until the connection ends. It waits for
// the socket to be readable itself, then reads and handles each message on a
// goroutine of its own, which it waits for: reading a frame and subscribing
// (resolvers, SQL) take a deeper stack than this long-lived goroutine should
// keep between messages.
func (c *wsConn) serve() {
	c.mu.Lock()
	if c.t.initTimeout > 0 {
		c.timer = time.AfterFunc(c.t.initTimeout, func() {
			c.mu.Lock()
			inited := c.inited
			c.mu.Unlock()
			if !inited {
				c.close(closeInitTimeout, "Connection initialisation timeout")
			}
		})
	}
	c.mu.Unlock()
	raw, _ := c.net.(syscall.Conn)
	var rc syscall.RawConn
	if raw != nil {
		rc, _ = raw.SyscallConn()
	}
	wait := !c.pending
	for {
		if wait && rc != nil && !c.buffered() {
			// Park until the socket is readable (or closed), reading
			// nothing: peek without waiting, and let the poller wait.
			var one [1]byte
			if err := rc.Read(func(fd uintptr) bool {
				_, _, err := syscall.Recvfrom(int(fd), one[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
				return err != syscall.EAGAIN && err != syscall.EINTR
			}); err != nil {
				c.closeNow()
				return
			}
		}
		wait = true
		ok := false
		var wg sync.WaitGroup
		wg.Go(func() {
			_, data, err := c.ws.Read(context.Background())
			if err != nil {
				c.closeNow()
				return
			}
			var m wsMessage
			if err := json.Unmarshal(data, &m); err != nil || m.Type == "" {
				c.close(closeBadMessage, "Invalid message received: not a JSON object with a type")
				return
			}
			ok = c.handle(&m)
		})
		wg.Wait()
		if !ok {
			return
		}
	}
}

// buffered reports whether the websocket's reader holds bytes not yet read.
func (c *wsConn) buffered() bool {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	return c.br.Buffered() > 0
}

// handle acts on one message; it returns false when the connection ends.
func (c *wsConn) handle(m *wsMessage) bool {
	switch m.Type {
	case "connection_init":
		return c.connectionInit(m)
	case "ping":
		if c.legacy {
			break
		}
		c.send(&wsMessage{Type: "pong", Payload: m.Payload})
		return true
	case "pong":
		if c.legacy {
			break
		}
		return true
	case "connection_terminate":
		if !c.legacy {
			break
		}
		c.close(websocket.StatusNormalClosure, "terminated")
		return false
	case c.names.subscribe:
		return c.subscribe(m)
	case c.names.stop:
		c.mu.Lock()
		op := c.ops[m.ID]
		if op != nil {
			delete(c.ops, m.ID)
			op.ended = true
		}
		c.mu.Unlock()
		if op != nil {
			op.cancel()
		}
		return true
	}
	c.close(closeBadMessage, fmt.Sprintf("Invalid message received: unexpected type %.60q", m.Type))
	return false
}

func (c *wsConn) connectionInit(m *wsMessage) bool {
	c.mu.Lock()
	again := c.inited
	c.inited = true
	c.mu.Unlock()
	if again {
		c.close(closeTooManyInits, "Too many initialisation requests")
		return false
	}
	var payload transport.InitPayload
	if len(m.Payload) > 0 && string(m.Payload) != "null" {
		if err := json.Unmarshal(m.Payload, &payload); err != nil {
			c.close(closeBadMessage, "Invalid message received: connection_init's payload is not a JSON object")
			return false
		}
	}
	ctx, cancel, err := c.t.init(c.ctx, payload)
	if err != nil {
		msg := cairn.ErrorMessage(err)
		if c.legacy {
			b, _ := json.Marshal(&gqlerror.Error{Message: msg})
			c.send(&wsMessage{Type: "connection_error", Payload: b})
		}
		if len(msg) > 123 { // the most a close frame carries
			msg = strings.ToValidUTF8(msg[:120], "") + "..."
		}
		c.close(closeForbidden, msg)
		return false
	}
	c.mu.Lock()
	closing := c.closing
	c.opCtx, c.cancel, c.acked = ctx, cancel, true
	c.stmts = store.StatementCounterFrom(ctx)
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	c.mu.Unlock()
	if closing {
		cancel(errConnClosed)
		return false
	}
	// When the credentials are refused later (wsInit rechecks them),
	// the connection ends.
	context.AfterFunc(ctx, func() {
		if context.Cause(ctx) != errConnClosed {
			c.close(closeForbidden, revokedReason)
		}
	})
	c.send(&wsMessage{Type: "connection_ack"})
	if c.legacy {
		c.send(&wsMessage{Type: "ka"})
	}
	c.keepAlive()
	return true
}

// keepAlive sends a ping (or ka) every keepAlive, from a timer.
func (c *wsConn) keepAlive() {
	if c.t.keepAlive <= 0 {
		return
	}
	msg := &wsMessage{Type: "ping"}
	if c.legacy {
		msg = &wsMessage{Type: "ka"}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return
	}
	c.timer = time.AfterFunc(c.t.keepAlive, func() {
		if c.send(msg) {
			c.mu.Lock()
			if !c.closing {
				c.timer.Reset(c.t.keepAlive)
			}
			c.mu.Unlock()
		}
	})
}

func (c *wsConn) subscribe(m *wsMessage) bool {
	start := graphql.Now()
	c.mu.Lock()
	acked, dup := c.acked, c.ops[m.ID] != nil
	opCtx := c.opCtx
	c.mu.Unlock()
	switch {
	case !acked:
		c.close(closeUnauthorized, "Unauthorized")
		return false
	case m.ID == "":
		c.close(closeBadMessage, "Invalid message received: "+c.names.subscribe+" without an id")
		return false
	case dup:
		c.close(closeDuplicateID, fmt.Sprintf("Subscriber for %.80s already exists", m.ID))
		return false
	}
	params := &graphql.RawParams{}
	if err := json.Unmarshal(m.Payload, params); err != nil {
		c.close(closeBadMessage, "Invalid message received: "+c.names.subscribe+"'s payload is not a GraphQL request")
		return false
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	params.Headers = c.headers
	ctx := graphql.StartOperationTrace(opCtx)
	rc, errs := c.exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := c.exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		if errcode.GetErrorKind(errs) == errcode.KindProtocol {
			c.sendErrors(m.ID, resp.Errors)
		} else {
			c.sendResponse(m.ID, &graphql.Response{Errors: errs})
		}
		c.send(&wsMessage{ID: m.ID, Type: c.names.complete})
		return true
	}
	ctx, cancel := context.WithCancel(graphql.WithOperationContext(ctx, rc))
	op := &wsOp{c: c, id: m.ID, rc: rc, cancel: cancel}
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		cancel()
		return false
	}
	c.ops[m.ID] = op
	c.mu.Unlock()
	if rc.Operation.Operation == ast.Subscription {
		ctx = events.WithDriver(ctx, op)
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				op.handler = graphql.OneShot(&graphql.Response{Errors: gqlerror.List{gqlError(rc.Recover(ctx, r))}})
				op.pump = nil
			}
		}()
		// A subscription's resolver runs here and calls op.Drive.
		op.handler, op.ctx = c.exec.DispatchOperation(ctx, rc)
		// Every response of a subscription looks up the same values
		// (the principal, the operation, the counter, the driver...)
		// through the same long chain of contexts.
		op.ctx = &memoCtx{Context: op.ctx}
	}()
	if op.pump == nil {
		// A query, a mutation, or a subscription that did not start.
		go op.run()
		return true
	}
	op.group = c.t.join(shareKey(op.ctx, rc))
	c.mu.Lock()
	op.started = true
	if op.waiting {
		c.enqueue(op)
	}
	c.mu.Unlock()
	return true
}

func gqlError(err error) *gqlerror.Error {
	var ge *gqlerror.Error
	if errors.As(err, &ge) {
		return ge
	}
	ge = &gqlerror.Error{}
	if err != nil {
		ge.Message = err.Error()
	}
	return ge
}

// wsOp is an operation of a connection.
type wsOp struct {
	c       *wsConn
	id      string
	rc      *graphql.OperationContext
	ctx     context.Context
	cancel  context.CancelFunc
	handler graphql.ResponseHandler
	pump    func() bool // set by Drive; called only by the goroutine draining c.ready
	group   *shareGroup // the identical subscriptions; nil when not shared

	// Set by Reuse for the handler's run that follows; used only by the
	// goroutine draining c.ready.
	hit []byte            // the data to answer with, made for another subscription
	ev  *cairn.AuditEvent // the event of the item the handler reads, to share its data

	// Guarded by c.mu.
	started bool // handler and ctx are set
	waiting bool // ready was called before the start
	queued  bool // in c.ready
	ended   bool // the client stopped it, or it completed
}

// Drive implements events.Driver.
func (op *wsOp) Drive(pump func() bool) func() {
	op.pump = pump
	return op.ready
}

// Reuse implements events.Driver.
func (op *wsOp) Reuse(ev *cairn.AuditEvent) bool {
	op.hit, op.ev = nil, nil
	if op.group == nil {
		return false
	}
	if op.hit = op.group.get(ev); op.hit != nil {
		return true
	}
	op.ev = ev
	return false
}

// ready queues op to be drained, starting the connection's writer if none
// runs.
func (op *wsOp) ready() {
	c := op.c
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case op.ended || c.closing:
	case !op.started:
		op.waiting = true
	default:
		c.enqueue(op)
	}
}

// enqueue queues op. c.mu must be held.
func (c *wsConn) enqueue(op *wsOp) {
	if op.queued {
		return
	}
	op.queued = true
	c.ready = append(c.ready, op)
	if !c.writing {
		c.writing = true
		go c.flush()
	}
}

// flush drains the subscriptions that have something to send, then ends.
func (c *wsConn) flush() {
	for {
		c.mu.Lock()
		if len(c.ready) == c.head || c.closing {
			clear(c.ready)
			c.ready, c.head, c.writing = c.ready[:0], 0, false
			c.mu.Unlock()
			return
		}
		op := c.ready[c.head]
		c.ready[c.head] = nil
		if c.head++; c.head == len(c.ready) {
			c.ready, c.head = c.ready[:0], 0
		}
		op.queued = false
		c.mu.Unlock()
		if !op.drain() {
			return
		}
	}
}

// drain sends what op has waiting; false when the connection failed.
func (op *wsOp) drain() (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			op.c.sendErrors(op.id, gqlerror.List{gqlError(op.rc.Recover(op.ctx, r))})
			op.end(false)
			ok = true
		}
	}()
	for op.ctx.Err() == nil && op.pump() {
		resp := op.handler(op.ctx)
		op.hit, op.ev = nil, nil
		if resp == nil {
			op.end(true)
			return true
		}
		if !op.c.sendResponse(op.id, resp) {
			return false
		}
	}
	return true
}

// run runs an operation that is not driven, in a goroutine of its own.
func (op *wsOp) run() {
	defer func() {
		if r := recover(); r != nil {
			op.c.sendErrors(op.id, gqlerror.List{gqlError(op.rc.Recover(op.ctx, r))})
			op.end(false)
		}
	}()
	// A query or a mutation has one response (its handler must not be
	// called again: the edge's deadline of the operation has ended).
	once := op.rc.Operation == nil || op.rc.Operation.Operation != ast.Subscription
	for {
		resp := op.handler(op.ctx)
		if resp == nil {
			break
		}
		op.c.sendResponse(op.id, resp)
		if once {
			break
		}
	}
	op.end(true)
}

// end takes op off its connection; complete tells the client unless it
// stopped op or the connection is ending.
func (op *wsOp) end(complete bool) {
	c := op.c
	c.mu.Lock()
	already, closing := op.ended, c.closing
	op.ended = true
	if c.ops[op.id] == op {
		delete(c.ops, op.id)
	}
	c.mu.Unlock()
	op.cancel()
	if complete && !already && !closing {
		c.send(&wsMessage{ID: op.id, Type: c.names.complete})
	}
}

// sendResponse sends resp as op id's next (data) message.
func (c *wsConn) sendResponse(id string, resp *graphql.Response) bool {
	buf := bufs.Get().(*bytes.Buffer)
	defer putBuf(buf)
	buf.Write(frameRoom[:])
	buf.WriteString(`{"id":`)
	writeJSONString(buf, id)
	buf.WriteString(`,"type":"`)
	buf.WriteString(c.names.next)
	buf.WriteString(`","payload":`)
	statements := -1
	if c.stmts != nil {
		statements = c.stmts.Count()
	}
	if err := encodeResponse(buf, resp, statements); err != nil {
		c.t.log.Error("live: encoding a response", "err", err)
		return true
	}
	buf.WriteByte('}')
	return c.write(buf.Bytes())
}

// encodeResponse writes resp as JSON (as json.Marshal would, without its
// reflection for the common response: data, errors, extensions), with
// extensions.sqlStatements when statements is not negative.
func encodeResponse(buf *bytes.Buffer, resp *graphql.Response, statements int) error {
	if statements >= 0 && len(resp.Extensions) > 0 {
		resp.Extensions["sqlStatements"] = statements
		statements = -1
	}
	if resp.Label != "" || resp.Path != nil || resp.HasNext != nil {
		if statements >= 0 {
			resp.Extensions = map[string]any{"sqlStatements": statements}
		}
		b, err := json.Marshal(resp)
		buf.Write(b)
		return err
	}
	if err := openResponse(buf, resp, false); err != nil {
		return err
	}
	if statements >= 0 {
		buf.WriteString(`,"extensions":{"sqlStatements":`)
		buf.Write(strconv.AppendInt(buf.AvailableBuffer(), int64(statements), 10))
		buf.WriteByte('}')
	} else if len(resp.Extensions) > 0 {
		buf.WriteString(`,"extensions":`)
		if err := encodeExtensions(buf, resp.Extensions); err != nil {
			return err
		}
	}
	buf.WriteByte('}')
	return nil
}

// encodeExtensions writes ext as JSON; one plain key with an int (Cairn's
// sqlStatements) without reflection.
func encodeExtensions(buf *bytes.Buffer, ext map[string]any) error {
	if len(ext) == 1 {
		for k, v := range ext {
			if n, ok := v.(int); ok && plainKey(k) {
				buf.WriteString(`{"`)
				buf.WriteString(k)
				buf.WriteString(`":`)
				buf.Write(strconv.AppendInt(buf.AvailableBuffer(), int64(n), 10))
				buf.WriteByte('}')
				return nil
			}
		}
	}
	b, err := json.Marshal(ext)
	buf.Write(b)
	return err
}

// plainKey reports whether k needs no escaping in JSON.
func plainKey(k string) bool {
	for i := 0; i < len(k); i++ {
		if c := k[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return k != ""
}

// writeJSONString writes s as a JSON string.
func writeJSONString(buf *bytes.Buffer, s string) {
	if plainKey(s) || s == "" {
		buf.WriteByte('"')
		buf.WriteString(s)
		buf.WriteByte('"')
		return
	}
	b, _ := json.Marshal(s)
	buf.Write(b)
}

func (c *wsConn) sendErrors(id string, errs gqlerror.List) bool {
	b, err := json.Marshal(errs)
	if err != nil {
		c.t.log.Error("live: encoding errors", "err", err)
		return true
	}
	return c.send(&wsMessage{ID: id, Type: c.names.err, Payload: b})
}

// bufs are the buffers messages are encoded in.
var bufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func putBuf(buf *bytes.Buffer) {
	if buf.Cap() <= 64<<10 {
		buf.Reset()
		bufs.Put(buf)
	}
}

// send writes m. It returns false when the connection failed.
func (c *wsConn) send(m *wsMessage) bool {
	buf := bufs.Get().(*bytes.Buffer)
	defer putBuf(buf)
	buf.Write(frameRoom[:])
	buf.WriteByte('{')
	if m.ID != "" {
		buf.WriteString(`"id":`)
		writeJSONString(buf, m.ID)
		buf.WriteByte(',')
	}
	buf.WriteString(`"type":"`)
	buf.WriteString(m.Type) // one of ours: nothing to escape
	buf.WriteByte('"')
	if len(m.Payload) > 0 {
		buf.WriteString(`,"payload":`)
		buf.Write(m.Payload)
	}
	buf.WriteByte('}')
	return c.write(buf.Bytes())
}

// frameRoom is the room a message's buffer keeps before the message for
// the header of its frame (at most 10 bytes), so that the frame is written
// from the buffer in one call.
var frameRoom [10]byte

// write writes one text message, which buf holds after frameRoom, as one
// frame in one write; a connection that cannot take it within writeTimeout
// is closed. It returns false when the connection failed or is closing.
func (c *wsConn) write(buf []byte) bool {
	if c.out == nil { // not hijacked by leanHijacker: cannot happen
		return false
	}
	const room = len(frameRoom)
	frame := buf
	switch n := len(buf) - room; {
	case n < 126:
		frame = buf[room-2:]
		frame[0], frame[1] = 0x81, byte(n) // FIN, text; unmasked
	case n <= 0xffff:
		frame = buf[room-4:]
		frame[0], frame[1] = 0x81, 126
		binary.BigEndian.PutUint16(frame[2:], uint16(n))
	default:
		frame[0], frame[1] = 0x81, 127
		binary.BigEndian.PutUint64(frame[2:], uint64(n))
	}
	o := c.out
	o.mu.Lock()
	if c.stopped.Load() { // after the close frame, nothing
		o.mu.Unlock()
		return false
	}
	if c.t.writeTimeout > 0 {
		// Moving the deadline costs a timer update: move it only when it
		// has come a second closer, so a frame has 29 to 30 s.
		if at := time.Now().Add(c.t.writeTimeout).UnixNano(); at-o.deadline > int64(time.Second) {
			o.deadline = at
			_ = o.Conn.SetWriteDeadline(time.Unix(0, at))
		}
	}
	_, err := o.Conn.Write(frame)
	o.mu.Unlock()
	if err != nil {
		c.closeNow()
		return false
	}
	return true
}

// close ends the connection with a close frame (in a goroutine: the close
// handshake waits for the client), its operations with it.
func (c *wsConn) close(code websocket.StatusCode, reason string) {
	if c.stop() {
		go func() {
			// The close handshake reads what the client still sends.
			c.rmu.Lock()
			defer c.rmu.Unlock()
			_ = c.ws.Close(code, reason)
		}()
	}
}

// closeNow ends the connection without a close frame.
func (c *wsConn) closeNow() {
	if c.stop() {
		_ = c.ws.CloseNow()
	}
}

// stop ends the operations and the connection's context; false if it ran
// before.
func (c *wsConn) stop() bool {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return false
	}
	c.closing = true
	c.stopped.Store(true)
	ops := c.ops
	c.ops = nil
	if c.timer != nil {
		c.timer.Stop()
	}
	cancel := c.cancel
	c.mu.Unlock()
	if cancel != nil {
		cancel(errConnClosed) // ends the credentials' rechecks
	}
	for _, op := range ops {
		op.cancel()
	}
	c.t.mu.Lock()
	delete(c.t.conns, c)
	c.t.mu.Unlock()
	return true
}

var errConnClosed = errors.New("websocket closed")

// memoCtx remembers the values its chain of contexts answered. A
// subscription's responses run from one long-lived context whose chain is
// long (the connection's, gqlgen's and the extensions' values); each
// response looks up the same few keys, and a key nobody set walks the whole
// chain. A context's values never change, so what it answered once stands.
type memoCtx struct {
	context.Context
	mu   sync.Mutex
	n    int
	keys [8]any
	vals [8]any
}

func (m *memoCtx) Value(key any) any {
	m.mu.Lock()
	for i := range m.n {
		if m.keys[i] == key {
			v := m.vals[i]
			m.mu.Unlock()
			return v
		}
	}
	m.mu.Unlock()
	v := m.Context.Value(key)
	m.mu.Lock()
	if m.n < len(m.keys) {
		m.keys[m.n], m.vals[m.n] = key, v
		m.n++
	}
	m.mu.Unlock()
	return v
}
