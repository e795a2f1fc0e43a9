package outbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"portier/ent"
	"portier/ent/outboxmessage"
	"portier/internal/database"
	"portier/internal/outbox"
	"portier/internal/outbox/smtpsink"
	"portier/internal/testutil"
	"portier/internal/viewer"
)

// TestWorker runs the tests that need a database one after the other on
// one database, emptying the outbox before each: creating and migrating a
// database per test costs PostgreSQL far more than the tests themselves.
func TestWorker(t *testing.T) {
	db := testutil.OpenDB(t)
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, *database.DB)
	}{
		{"EnqueueValidates", testEnqueueValidates},
		{"RolledBackEnqueueSendsNothing", testRolledBackEnqueueSendsNothing},
		{"DeliveredExactlyOnceConcurrently", testDeliveredExactlyOnceConcurrently},
		{"RetryWithBackoff", testRetryWithBackoff},
		{"MaxAttemptsFails", testMaxAttemptsFails},
		{"ExpiredLeaseIsDeliveredAfterRestart", testExpiredLeaseIsDeliveredAfterRestart},
		{"SMSWebhook", testSMSWebhook},
		{"NoTransportLogs", testNoTransportLogs},
		{"OperationalLogsCarryNoContent", testOperationalLogsCarryNoContent},
		{"NoTransportWithoutLogIsAnError", testNoTransportWithoutLogIsAnError},
		{"UmlautsAndHeadersArriveIntact", testUmlautsAndHeadersArriveIntact},
		{"WaitForReturnsSuccessiveMails", testWaitForReturnsSuccessiveMails},
		{"SMTPAuthOverSTARTTLS", testSMTPAuthOverSTARTTLS},
		{"AuthNeverWithoutTLS", testAuthNeverWithoutTLS},
		{"STARTTLSRequired", testSTARTTLSRequired},
		{"ImplicitTLS", testImplicitTLS},
		{"InsecureAuthForLocalTests", testInsecureAuthForLocalTests},
		{"MultipartInTheRecipientsLanguage", testMultipartInTheRecipientsLanguage},
		{"FailedAuthedDeliveryLeaksNothing", testFailedAuthedDeliveryLeaksNothing},
		{"EnqueueRefusesUnsubscribeOnSecurityMail", testEnqueueRefusesUnsubscribeOnSecurityMail},
		{"CancelEndsAHangingDelivery", testCancelEndsAHangingDelivery},
		{"ErrorsDoNotLeakSecrets", testErrorsDoNotLeakSecrets},
		{"Run", testRun},
	} {
		db.Client.OutboxMessage.Delete().ExecX(sys)
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, db) })
	}
}

// clock is a settable clock: real time plus an offset.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().UTC().Add(c.off)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

var sys = viewer.SystemContext(context.Background())

// quietLog discards operational logs (a nil Log would also switch off the
// log transport, which some tests want on).
func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// enqueue writes m in a committed transaction.
func enqueue(t *testing.T, c *ent.Client, m outbox.Message) {
	t.Helper()
	ctx := context.Background()
	tx, err := c.Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := outbox.Enqueue(ctx, tx.Client(), m); err != nil {
		_ = tx.Rollback()
		t.Fatalf("enqueue: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func only(t *testing.T, c *ent.Client) *ent.OutboxMessage {
	t.Helper()
	m, err := c.OutboxMessage.Query().Only(sys)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func deliver(t *testing.T, w *outbox.Worker) int {
	t.Helper()
	n, err := w.DeliverDue(context.Background())
	if err != nil {
		t.Fatalf("DeliverDue: %v", err)
	}
	return n
}

func email(to, subject, body string) outbox.Message {
	return outbox.Message{Channel: outbox.ChannelEmail, To: to, Subject: subject, Body: body}
}

func testEnqueueValidates(t *testing.T, db *database.DB) {
	ctx := context.Background()
	for name, m := range map[string]outbox.Message{
		"channel":          {Channel: "FAX", To: "a@example.de", Body: "x"},
		"lower-case":       {Channel: "email", To: "a@example.de", Body: "x"},
		"no recipient":     {Channel: outbox.ChannelEmail, To: " ", Body: "x"},
		"no body":          {Channel: outbox.ChannelSMS, To: "+49301234567", Body: " \n"},
		"bad address":      email("not-an-address", "s", "x"),
		"header injection": email("a@example.de\r\nBcc: b@example.de", "s", "x"),
		"subject break":    email("a@example.de", "s\r\nBcc: b@example.de", "x"),
	} {
		if err := outbox.Enqueue(ctx, db.Client, m); !errors.Is(err, outbox.ErrInvalidMessage) {
			t.Errorf("%s: got %v, want ErrInvalidMessage", name, err)
		}
	}
	if n := db.Client.OutboxMessage.Query().CountX(sys); n != 0 {
		t.Fatalf("%d invalid messages written", n)
	}
	// Enqueue works without the caller being the system …
	if err := outbox.Enqueue(ctx, db.Client, email("Anna Beispiel <a@example.de>", "s", "x")); err != nil {
		t.Fatal(err)
	}
	// … while the table stays closed to everybody else.
	if _, err := db.Client.OutboxMessage.Query().All(ctx); err == nil {
		t.Fatal("outbox readable without system context")
	}
	m := only(t, db.Client)
	if m.Status != outboxmessage.StatusPENDING || m.Attempts != 0 || m.Channel != outboxmessage.ChannelEMAIL {
		t.Fatalf("enqueued message: %+v", m)
	}
}

func testRolledBackEnqueueSendsNothing(t *testing.T, db *database.DB) {
	sink := smtpsink.Start(t)
	ctx := context.Background()
	tx, err := db.Client.Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := outbox.Enqueue(ctx, tx.Client(), email("a@example.de", "Hallo", "Text")); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	w := outbox.NewWorker(db.Client, outbox.Config{SMTPURL: sink.URL(), Log: quietLog()})
	if n := deliver(t, w); n != 0 {
		t.Fatalf("sent %d", n)
	}
	if got := len(sink.Messages()); got != 0 {
		t.Fatalf("sink received %d mails", got)
	}
	if n := db.Client.OutboxMessage.Query().CountX(sys); n != 0 {
		t.Fatalf("%d messages survived the rollback", n)
	}
}

func testDeliveredExactlyOnceConcurrently(t *testing.T, db *database.DB) {
	sink := smtpsink.Start(t)
	const count = 20
	for i := range count {
		enqueue(t, db.Client, email(addr(i), "Nachricht", "Text"))
	}
	// Two workers as two server instances would have them: separate ent
	// clients on the same database.
	other := ent.NewClient(ent.Driver(entsql.OpenDB(db.Dialect, db.SQL)))
	cfg := outbox.Config{SMTPURL: sink.URL(), Log: quietLog()}
	workers := []*outbox.Worker{outbox.NewWorker(db.Client, cfg), outbox.NewWorker(other, cfg)}

	var sent atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			n, err := workers[g%2].DeliverDue(context.Background())
			if err != nil {
				t.Errorf("worker %d: %v", g, err)
			}
			sent.Add(int64(n))
		}()
	}
	close(start)
	wg.Wait()

	if sent.Load() != count {
		t.Errorf("workers report %d sent, want %d", sent.Load(), count)
	}
	perAddr := map[string]int{}
	for _, m := range sink.Messages() {
		perAddr[m.To[0]]++
	}
	for i := range count {
		if perAddr[addr(i)] != 1 {
			t.Errorf("%s received %d mails", addr(i), perAddr[addr(i)])
		}
	}
	if len(sink.Messages()) != count {
		t.Errorf("sink received %d mails, want %d", len(sink.Messages()), count)
	}
	for _, m := range db.Client.OutboxMessage.Query().AllX(sys) {
		if m.Status != outboxmessage.StatusSENT || m.Attempts != 1 || m.SentAt == nil {
			t.Errorf("message %s: status %s, attempts %d, sent_at %v", m.ID, m.Status, m.Attempts, m.SentAt)
		}
	}
	// A later pass finds nothing.
	if n := deliver(t, workers[1]); n != 0 {
		t.Errorf("second pass sent %d", n)
	}
}

func addr(i int) string { return "kunde" + string(rune('a'+i)) + "@example.de" }

func testRetryWithBackoff(t *testing.T, db *database.DB) {
	sink := smtpsink.Start(t)
	clk := &clock{}
	w := outbox.NewWorker(db.Client, outbox.Config{SMTPURL: sink.URL(), Log: quietLog(), Now: clk.Now})
	enqueue(t, db.Client, email("a@example.de", "Code", "geheimer-code-48213"))
	sink.FailNext(2)

	if n := deliver(t, w); n != 0 {
		t.Fatalf("sent %d despite failure", n)
	}
	m := only(t, db.Client)
	if m.Status != outboxmessage.StatusPENDING || m.Attempts != 1 {
		t.Fatalf("after 1st failure: status %s attempts %d", m.Status, m.Attempts)
	}
	if !strings.Contains(m.LastError, "451") || strings.Contains(m.LastError, "geheimer") {
		t.Fatalf("last_error %q", m.LastError)
	}
	if wait := m.NextAttemptAt.Sub(clk.Now()); wait < 25*time.Second || wait > 31*time.Second {
		t.Fatalf("1st backoff %v, want ~30s", wait)
	}

	// Not due yet: nothing happens.
	clk.Advance(20 * time.Second)
	if n := deliver(t, w); n != 0 || only(t, db.Client).Attempts != 1 {
		t.Fatal("retried before the backoff elapsed")
	}

	clk.Advance(11 * time.Second)
	if n := deliver(t, w); n != 0 {
		t.Fatalf("sent %d despite 2nd failure", n)
	}
	m = only(t, db.Client)
	if m.Attempts != 2 || m.Status != outboxmessage.StatusPENDING {
		t.Fatalf("after 2nd failure: status %s attempts %d", m.Status, m.Attempts)
	}
	if wait := m.NextAttemptAt.Sub(clk.Now()); wait < 55*time.Second || wait > 61*time.Second {
		t.Fatalf("2nd backoff %v, want ~60s", wait)
	}

	clk.Advance(61 * time.Second)
	if n := deliver(t, w); n != 1 {
		t.Fatalf("sent %d after backoff, want 1", n)
	}
	m = only(t, db.Client)
	if m.Status != outboxmessage.StatusSENT || m.Attempts != 3 || m.SentAt == nil {
		t.Fatalf("after success: status %s attempts %d sent_at %v", m.Status, m.Attempts, m.SentAt)
	}
	if got := len(sink.Messages()); got != 1 {
		t.Fatalf("sink holds %d mails, want 1", got)
	}
}

func testMaxAttemptsFails(t *testing.T, db *database.DB) {
	sink := smtpsink.Start(t)
	clk := &clock{}
	w := outbox.NewWorker(db.Client, outbox.Config{SMTPURL: sink.URL(), Log: quietLog(), Now: clk.Now, MaxAttempts: 3})
	enqueue(t, db.Client, email("a@example.de", "Betreff", "Text"))
	sink.FailNext(100)
	for range 5 {
		deliver(t, w)
		clk.Advance(outbox.BackoffMax + time.Second)
	}
	m := only(t, db.Client)
	if m.Status != outboxmessage.StatusFAILED || m.Attempts != 3 || m.LastError == "" || m.SentAt != nil {
		t.Fatalf("status %s attempts %d last_error %q", m.Status, m.Attempts, m.LastError)
	}
	sink.FailNext(0)
	if n := deliver(t, w); n != 0 || len(sink.Messages()) != 0 {
		t.Fatal("a FAILED message was sent")
	}
}

func testExpiredLeaseIsDeliveredAfterRestart(t *testing.T, db *database.DB) {
	sink := smtpsink.Start(t)
	clk := &clock{}
	enqueue(t, db.Client, email("a@example.de", "Betreff", "Text"))
	enqueue(t, db.Client, email("b@example.de", "Betreff", "Text"))
	// A previous process claimed both and died mid-send; b was at its last attempt.
	leaseEnd := clk.Now().Add(outbox.Lease)
	db.Client.OutboxMessage.Update().Where(outboxmessage.Recipient("a@example.de")).
		SetStatus(outboxmessage.StatusSENDING).SetAttempts(1).SetNextAttemptAt(leaseEnd).ExecX(sys)
	db.Client.OutboxMessage.Update().Where(outboxmessage.Recipient("b@example.de")).
		SetStatus(outboxmessage.StatusSENDING).SetAttempts(8).SetNextAttemptAt(leaseEnd).ExecX(sys)

	w := outbox.NewWorker(db.Client, outbox.Config{SMTPURL: sink.URL(), Log: quietLog(), Now: clk.Now})
	if n := deliver(t, w); n != 0 {
		t.Fatalf("sent %d during the lease", n)
	}
	clk.Advance(outbox.Lease + time.Second)
	if n := deliver(t, w); n != 1 {
		t.Fatalf("sent %d after the lease expired, want 1", n)
	}
	if _, err := sink.WaitFor("a@example.de", time.Second); err != nil {
		t.Fatal(err)
	}
	a := db.Client.OutboxMessage.Query().Where(outboxmessage.Recipient("a@example.de")).OnlyX(sys)
	if a.Status != outboxmessage.StatusSENT || a.Attempts != 2 {
		t.Fatalf("a: status %s attempts %d", a.Status, a.Attempts)
	}
	b := db.Client.OutboxMessage.Query().Where(outboxmessage.Recipient("b@example.de")).OnlyX(sys)
	if b.Status != outboxmessage.StatusFAILED || b.Attempts != 8 || b.LastError == "" {
		t.Fatalf("b: status %s attempts %d", b.Status, b.Attempts)
	}
	if len(sink.Messages()) != 1 {
		t.Fatalf("sink holds %d mails", len(sink.Messages()))
	}
}

func testSMSWebhook(t *testing.T, db *database.DB) {
	type call struct {
		contentType string
		payload     map[string]any
	}
	var (
		mu    sync.Mutex
		calls []call
		fail  atomic.Bool
	)
	fail.Store(true)
	gw := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var p map[string]any
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil || r.Method != http.MethodPost {
			rw.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		calls = append(calls, call{r.Header.Get("Content-Type"), p})
		mu.Unlock()
		if fail.Load() {
			http.Error(rw, "echo: "+p["body"].(string), http.StatusServiceUnavailable)
			return
		}
		rw.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(gw.Close)

	clk := &clock{}
	w := outbox.NewWorker(db.Client, outbox.Config{SMSWebhookURL: gw.URL + "/sms?token=gw-secret", Log: quietLog(), Now: clk.Now})
	enqueue(t, db.Client, outbox.Message{Channel: outbox.ChannelSMS, To: "+491701234567", Body: "Ihr Code: 48213 – gültig"})

	if n := deliver(t, w); n != 0 {
		t.Fatal("sent despite HTTP 503")
	}
	m := only(t, db.Client)
	if m.LastError != "sms webhook: HTTP 503" {
		t.Fatalf("last_error %q", m.LastError)
	}
	fail.Store(false)
	clk.Advance(outbox.BackoffBase + time.Second)
	if n := deliver(t, w); n != 1 {
		t.Fatalf("sent %d, want 1", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 2 {
		t.Fatalf("%d webhook calls, want 2", len(calls))
	}
	got := calls[1]
	if got.contentType != "application/json" || len(got.payload) != 2 ||
		got.payload["to"] != "+491701234567" || got.payload["body"] != "Ihr Code: 48213 – gültig" {
		t.Fatalf("webhook call %+v", got)
	}
	if m := only(t, db.Client); m.Status != outboxmessage.StatusSENT {
		t.Fatalf("status %s", m.Status)
	}
}

func testNoTransportLogs(t *testing.T, db *database.DB) {
	var buf bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewJSONHandler(&lockedWriter{w: &buf, mu: &mu}, nil))
	w := outbox.NewWorker(db.Client, outbox.Config{Log: log})
	enqueue(t, db.Client, email("a@example.de", "Bitte bestätigen", "Link: https://portal.example/v?t=abc123"))
	enqueue(t, db.Client, outbox.Message{Channel: outbox.ChannelSMS, To: "+491701234567", Body: "Code 48213"})
	if n := deliver(t, w); n != 2 {
		t.Fatalf("sent %d, want 2", n)
	}
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	var logged []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == outbox.NoTransportLogMsg {
			logged = append(logged, rec)
		}
	}
	if len(logged) != 2 {
		t.Fatalf("%d messages logged, want 2:\n%s", len(logged), out)
	}
	for _, rec := range logged {
		switch rec["channel"] {
		case "EMAIL":
			if rec["to"] != "a@example.de" || rec["subject"] != "Bitte bestätigen" || !strings.Contains(rec["body"].(string), "abc123") {
				t.Errorf("e-mail log record %v", rec)
			}
		case "SMS":
			if rec["to"] != "+491701234567" || rec["body"] != "Code 48213" {
				t.Errorf("SMS log record %v", rec)
			}
		default:
			t.Errorf("log record %v", rec)
		}
	}
	for _, m := range db.Client.OutboxMessage.Query().AllX(sys) {
		if m.Status != outboxmessage.StatusSENT {
			t.Errorf("%s: status %s", m.Channel, m.Status)
		}
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Logs other than the dev log transport never carry bodies or recipients.
func testOperationalLogsCarryNoContent(t *testing.T, db *database.DB) {
	sink := smtpsink.Start(t)
	var buf bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	clk := &clock{}
	w := outbox.NewWorker(db.Client, outbox.Config{SMTPURL: sink.URL(), Log: log, Now: clk.Now, MaxAttempts: 2})
	enqueue(t, db.Client, email("geheim@example.de", "Betreff-XYZ", "Body-Secret-123"))
	sink.FailNext(1)
	deliver(t, w)
	clk.Advance(time.Hour)
	if n := deliver(t, w); n != 1 {
		t.Fatalf("sent %d", n)
	}
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	for _, s := range []string{"Body-Secret-123", "geheim@example.de", "Betreff-XYZ"} {
		if strings.Contains(out, s) {
			t.Errorf("log contains %q:\n%s", s, out)
		}
	}
	if !strings.Contains(out, "will retry") {
		t.Errorf("failure not logged:\n%s", out)
	}
}

func testNoTransportWithoutLogIsAnError(t *testing.T, db *database.DB) {
	// No Log: operational messages go to slog.Default, and an unconfigured
	// channel must not fall back to logging message contents.
	w := outbox.NewWorker(db.Client, outbox.Config{})
	enqueue(t, db.Client, email("a@example.de", "Betreff", "Text"))
	if n := deliver(t, w); n != 0 {
		t.Fatalf("sent %d", n)
	}
	m := only(t, db.Client)
	if m.Status != outboxmessage.StatusPENDING || m.LastError != "no transport configured for EMAIL" {
		t.Fatalf("status %s last_error %q", m.Status, m.LastError)
	}
}

func testUmlautsAndHeadersArriveIntact(t *testing.T, db *database.DB) {
	sink := smtpsink.Start(t)
	w := outbox.NewWorker(db.Client, outbox.Config{SMTPURL: sink.URL(), Log: quietLog()})
	subject := "Ihr Passwort wurde geändert – Grüße aus Köln, äöüß ÄÖÜ €, und ein recht langer Betreff"
	body := "Guten Tag Jörg Müller,\n\n" +
		"Straße, Größe, Übermaß: " + strings.Repeat("äöü ", 40) + "\n" +
		".Zeile mit Punkt am Anfang\n" +
		".\n" +
		"Zeile mit Leerzeichen am Ende   \n" +
		"Gleichheitszeichen = und =3D bleiben\n"
	enqueue(t, db.Client, email("Jörg Müller <joerg@example.de>", subject, body))
	if n := deliver(t, w); n != 1 {
		t.Fatalf("sent %d", n)
	}
	got, err := sink.WaitFor("joerg@example.de", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != subject {
		t.Errorf("subject %q, want %q", got.Subject, subject)
	}
	if got.Body != body {
		t.Errorf("body\n%q\nwant\n%q", got.Body, body)
	}
	if got.From != "no-reply@portier.local" || len(got.To) != 1 || got.To[0] != "joerg@example.de" {
		t.Errorf("envelope from %q to %v", got.From, got.To)
	}
	for _, line := range strings.Split(got.Raw, "\r\n") {
		if len(line) > 78 {
			t.Errorf("line longer than 78 characters: %q", line)
		}
		for _, r := range line {
			if r > 127 {
				t.Errorf("non-ASCII in raw message: %q", line)
				break
			}
		}
	}
	msg, err := mail.ReadMessage(strings.NewReader(got.Raw))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	if h.Get("MIME-Version") != "1.0" {
		t.Errorf("MIME-Version %q", h.Get("MIME-Version"))
	}
	parts := alternatives(t, msg)
	if parts["text/plain"] != body {
		t.Errorf("text part\n%q\nwant\n%q", parts["text/plain"], body)
	}
	if !strings.Contains(parts["text/html"], "Guten Tag Jörg Müller,") || !strings.Contains(parts["text/html"], "Gleichheitszeichen = und =3D bleiben") {
		t.Errorf("HTML part made from the text lacks it:\n%s", parts["text/html"])
	}
	if raw := h.Get("Subject"); !strings.Contains(raw, "=?UTF-8?") && !strings.Contains(raw, "=?utf-8?") {
		t.Errorf("Subject not RFC 2047 encoded: %q", raw)
	}
	if raw := h.Get("To"); !strings.Contains(strings.ToLower(raw), "=?utf-8?") {
		t.Errorf("To name not RFC 2047 encoded: %q", raw)
	}
	if h.Get("Auto-Submitted") != "auto-generated" || h.Get("List-Unsubscribe") != "" {
		t.Errorf("Auto-Submitted %q, List-Unsubscribe %q", h.Get("Auto-Submitted"), h.Get("List-Unsubscribe"))
	}
	if from, err := h.AddressList("From"); err != nil || from[0].Name != "Portier" || from[0].Address != "no-reply@portier.local" {
		t.Errorf("From %q: %v", h.Get("From"), err)
	}
	if to, err := h.AddressList("To"); err != nil || to[0].Name != "Jörg Müller" || to[0].Address != "joerg@example.de" {
		t.Errorf("To %q: %v", h.Get("To"), err)
	}
	if d, err := h.Date(); err != nil || time.Since(d) > time.Minute {
		t.Errorf("Date %q: %v", h.Get("Date"), err)
	}
	if id := h.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@portier.local>") {
		t.Errorf("Message-ID %q", id)
	}
}

func testWaitForReturnsSuccessiveMails(t *testing.T, db *database.DB) {
	sink := smtpsink.Start(t)
	w := outbox.NewWorker(db.Client, outbox.Config{SMTPURL: sink.URL(), From: "Kundenportal <portal@hoster.example>", Log: quietLog()})
	done := make(chan struct{})
	defer func() { <-done }()
	go func() {
		defer close(done)
		for _, s := range []string{"eins", "zwei"} {
			if err := outbox.Enqueue(context.Background(), db.Client, email("A@Example.de", s, s)); err != nil {
				t.Error(err)
			}
			if _, err := w.DeliverDue(context.Background()); err != nil {
				t.Error(err)
			}
		}
	}()
	first, err := sink.WaitFor("a@example.de", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	second, err := sink.WaitFor("a@example.de", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if first.Subject != "eins" || second.Subject != "zwei" || first.From != "portal@hoster.example" {
		t.Fatalf("got %q from %q, then %q", first.Subject, first.From, second.Subject)
	}
	if _, err := sink.WaitFor("a@example.de", 50*time.Millisecond); err == nil {
		t.Fatal("third WaitFor returned a mail")
	}
}

func testErrorsDoNotLeakSecrets(t *testing.T, db *database.DB) {
	// A port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	_ = l.Close()

	w := outbox.NewWorker(db.Client, outbox.Config{
		SMTPURL:       "smtp://user:Sup3rSecret@" + closed,
		SMSWebhookURL: "http://" + closed + "/send?token=T0kenSecret",
		Log:           quietLog(),
	})
	enqueue(t, db.Client, email("a@example.de", "Betreff", "Body-Secret"))
	enqueue(t, db.Client, outbox.Message{Channel: outbox.ChannelSMS, To: "+49170", Body: "Body-Secret"})
	deliver(t, w)
	for _, m := range db.Client.OutboxMessage.Query().AllX(sys) {
		if m.LastError == "" || m.Status != outboxmessage.StatusPENDING {
			t.Errorf("%s: status %s last_error %q", m.Channel, m.Status, m.LastError)
		}
		for _, s := range []string{"Sup3rSecret", "T0kenSecret", "Body-Secret"} {
			if strings.Contains(m.LastError, s) {
				t.Errorf("%s: last_error %q leaks %s", m.Channel, m.LastError, s)
			}
		}
	}

	for _, cfg := range []outbox.Config{
		{SMTPURL: "smtp://user:Sup3r%zzSecret@host:25"},
		{SMTPURL: "ftp://user:Sup3rSecret@host"},
		{SMSWebhookURL: "://T0kenSecret"},
		{SMTPURL: "smtp://host", From: "not an address"},
		{SMTPURL: "smtp://user:Sup3rSecret@host?starttls=opportunistic"},
		{SMTPURL: "smtps://user:Sup3rSecret@host?starttls=required"},
		{SMTPURL: "smtp://user:Sup3rSecret@host?auth=Sup3rSecret"},
		{SMTPURL: "smtp://user:Sup3rSecret@host?token=Sup3rSecret"},
		{SMTPURL: "smtp://user:Sup3rSecret@host:99999"},
		{SMTPURL: "smtp://host?insecure_auth=true"},
		{SMTPURL: "smtp://user:Sup3rSecret@host/Secret"},
	} {
		err := cfg.Validate()
		if err == nil {
			t.Errorf("%+v: no error", cfg)
			continue
		}
		if strings.Contains(err.Error(), "Secret") {
			t.Errorf("Validate error leaks a secret: %v", err)
		}
	}
	for _, u := range []string{
		"smtps://u:p@mail.example:465", "smtp://u:p@mail.example:587", "smtp://mail.example?starttls=required",
		"smtp://mail.example?starttls=opportunistic", "smtp://u:p@mail.example:587?auth=login",
		"smtp://u:p@127.0.0.1:2525?insecure_auth=true", "smtps://u:p@mail.example?auth=scram-sha-256",
	} {
		if err := (outbox.Config{SMTPURL: u, SMSWebhookURL: "https://sms.example/x"}).Validate(); err != nil {
			t.Errorf("valid config %s: %v", u, err)
		}
	}
}

func testRun(t *testing.T, db *database.DB) {
	sink := smtpsink.Start(t)
	w := outbox.NewWorker(db.Client, outbox.Config{SMTPURL: sink.URL(), Log: quietLog(), PollInterval: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	enqueue(t, db.Client, email("a@example.de", "Betreff", "Text"))
	if _, err := sink.WaitFor("a@example.de", 2*time.Second); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not stop")
	}
}

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{
		1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 7: 32 * time.Minute, 8: time.Hour, 50: time.Hour,
	} {
		if got := outbox.Backoff(n); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", n, got, want)
		}
	}
}
