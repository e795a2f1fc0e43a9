package outbox

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"portier/ent"
	"portier/ent/outboxmessage"
	"portier/ent/predicate"
	"portier/internal/metrics"
	"portier/internal/viewer"
)

// Delivery timing.
const (
	// Lease is how long a claimed message stays SENDING before another
	// worker may claim it again (the sender died mid-send). A send is cut
	// off after sendTimeout, well inside the lease, and the outcome is
	// written with retries for the rest of it (recordOutcome), so a message
	// is sent twice only if the process dies, or the database stays
	// unreachable until the lease ends, after the receiver accepted it and
	// before SENT was written.
	Lease       = 2 * time.Minute
	sendTimeout = 60 * time.Second
	// Backoff after the n-th failed attempt: BackoffBase·2^(n-1), at most BackoffMax.
	BackoffBase = 30 * time.Second
	BackoffMax  = time.Hour

	batchSize     = 100
	maxBatches    = 50 // per DeliverDue call
	maxErrorChars = 200
	// NoTransportLogMsg is the log message of a message written to the log
	// because no transport is configured for its channel.
	NoTransportLogMsg = "outbox message (no transport configured)"
)

// Config configures a Worker.
type Config struct {
	// SMTPURL is the mail server (see ParseSMTPURL and the README):
	//   smtp://host[:port]   port 25; STARTTLS when the server offers it,
	//                        or always with ?starttls=required
	//   smtps://host[:port]  implicit TLS, port 465
	// With credentials (smtp://user:pass@host:587, percent-encoded) the
	// connection must be TLS: smtp:// then requires STARTTLS, and
	// ?auth=plain|login|cram-md5|scram-sha-1|scram-sha-256 picks the
	// mechanism (default: PLAIN, else LOGIN, as the server offers).
	// ?insecure_auth=true sends credentials without TLS, for a local test
	// server only. Empty: no SMTP.
	SMTPURL string
	// From is the sender, default "Portier <no-reply@portier.local>".
	From string
	// SMSWebhookURL receives an HTTP POST with the JSON {"to": …, "body": …}
	// per SMS; a 2xx answer means sent. Empty: no SMS gateway.
	SMSWebhookURL string
	// RootCAs verify the SMTP server's certificate; nil: the system's
	// (which SSL_CERT_FILE and SSL_CERT_DIR can replace).
	RootCAs *x509.CertPool
	// Log receives operational messages (never bodies or secrets). When it
	// is set and no transport is configured for a channel, messages of that
	// channel are written to it in full — recipient, subject, body — and
	// counted as sent: the development default, where the developer needs
	// the link or code. When Log is nil, operational messages go to
	// slog.Default() and a channel without transport is an error (the
	// messages are retried and finally FAILED), so that a production
	// instance missing its configuration never writes secrets to a log.
	Log *slog.Logger
	// PollInterval is Run's pause between passes, default 2s.
	PollInterval time.Duration
	// MaxAttempts is the number of attempts before a message is FAILED,
	// default 8.
	MaxAttempts int
	// Now is the clock, default time.Now().UTC().
	Now func() time.Time
}

// Validate reports a configuration the worker cannot use (malformed SMTP or
// webhook URL, malformed From). NewWorker accepts it anyway and fails every
// delivery on that channel with the error (messages retry, then FAILED);
// call Validate at startup to fail early.
func (c Config) Validate() error {
	_, err := newTransports(c)
	return err
}

// Worker delivers due outbox messages.
type Worker struct {
	client      *ent.Client
	now         func() time.Time
	poll        time.Duration
	maxAttempts int
	log         *slog.Logger // operational log
	email       transport    // nil: channel not configured
	sms         transport
	devLog      *slog.Logger // nil: a channel without transport is an error
	emailErr    error        // the configured SMTP transport is invalid
	smsErr      error        // the configured SMS transport is invalid
}

// transport sends one message; errors must not contain the body or secrets.
type transport interface {
	send(ctx context.Context, m *ent.OutboxMessage, now time.Time) error
}

// NewWorker returns a worker delivering through client with cfg.
func NewWorker(client *ent.Client, cfg Config) *Worker {
	w := &Worker{
		client:      client,
		now:         cfg.Now,
		poll:        cfg.PollInterval,
		maxAttempts: cfg.MaxAttempts,
		log:         cfg.Log,
		devLog:      cfg.Log,
	}
	if w.now == nil {
		w.now = func() time.Time { return time.Now().UTC() }
	}
	if w.poll <= 0 {
		w.poll = 2 * time.Second
	}
	if w.maxAttempts <= 0 {
		w.maxAttempts = 8
	}
	if w.log == nil {
		w.log = slog.Default()
	}
	ts, err := newTransports(cfg)
	w.email, w.sms, w.emailErr, w.smsErr = ts.email, ts.sms, ts.emailErr, ts.smsErr
	if err != nil {
		w.log.Error("outbox: invalid configuration; affected messages will not be delivered", "error", err)
	}
	if t, ok := ts.email.(*smtpTransport); ok {
		w.log.Debug("outbox: SMTP server", "server", t.s.String(), "starttls_required", t.s.STARTTLSRequired)
	}
	if w.devLog != nil {
		if ts.email == nil && ts.emailErr == nil {
			w.log.Warn("outbox: no SMTP server configured; e-mails are written to the log")
		}
		if ts.sms == nil && ts.smsErr == nil {
			w.log.Warn("outbox: no SMS gateway configured; SMS are written to the log")
		}
	}
	return w
}

// DeliverDue makes one pass: it delivers every message that is due — PENDING
// with next_attempt_at <= now, or SENDING whose lease expired — and returns
// how many it sent. Failed sends are recorded on the message (retry or
// FAILED), not returned; the error is about the database or ctx.
func (w *Worker) DeliverDue(ctx context.Context) (int, error) {
	sctx := viewer.SystemContext(ctx)
	sent := 0
	var errs []error
	for range maxBatches {
		due, err := w.client.OutboxMessage.Query().
			Where(
				outboxmessage.StatusIn(outboxmessage.StatusPENDING, outboxmessage.StatusSENDING),
				outboxmessage.NextAttemptAtLTE(dbTime(w.now())),
			).
			Order(outboxmessage.ByNextAttemptAt(), outboxmessage.ByID()).
			Limit(batchSize).
			All(sctx)
		if err != nil {
			return sent, errors.Join(append(errs, fmt.Errorf("outbox: list due messages: %w", err))...)
		}
		for _, m := range due {
			if err := ctx.Err(); err != nil {
				return sent, errors.Join(append(errs, err)...)
			}
			ok, err := w.deliver(sctx, m)
			if ok {
				sent++
			}
			if err != nil {
				errs = append(errs, err)
			}
		}
		// Every message handled above is no longer due (sent, failed,
		// backed off, or claimed by another worker), so the next query
		// returns only messages not seen yet.
		if len(due) < batchSize {
			break
		}
	}
	return sent, errors.Join(errs...)
}

// Run calls DeliverDue now and then every PollInterval until ctx is done.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.poll)
	defer t.Stop()
	for {
		if _, err := w.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			w.log.Error("outbox: delivery pass failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// deliver claims m, sends it and records the outcome. It reports whether
// this call sent the message.
// redactedBody replaces the body of delivered and failed messages, which
// may hold verification links, reset links or login codes.
const redactedBody = "(removed after delivery)"

func (w *Worker) deliver(ctx context.Context, m *ent.OutboxMessage) (bool, error) {
	now := dbTime(w.now())
	if m.Status == outboxmessage.StatusSENDING && m.Attempts >= w.maxAttempts {
		// The last attempt's sender vanished mid-send: give up rather
		// than exceed MaxAttempts.
		_, err := w.client.OutboxMessage.Update().
			Where(w.unchanged(m, now)...).
			SetStatus(outboxmessage.StatusFAILED).
			SetLastError("delivery not confirmed: sender stopped during the last attempt").SetBody(redactedBody).SetHTMLBody("").SetUnsubscribeURL("").
			Save(ctx)
		if err != nil {
			return false, fmt.Errorf("outbox: mark %s failed: %w", m.ID, err)
		}
		return false, nil
	}
	attempt := m.Attempts + 1
	n, err := w.client.OutboxMessage.Update().
		Where(w.unchanged(m, now)...).
		SetStatus(outboxmessage.StatusSENDING).
		SetAttempts(attempt).
		SetNextAttemptAt(now.Add(Lease)).
		Save(ctx)
	if err != nil {
		return false, fmt.Errorf("outbox: claim %s: %w", m.ID, err)
	}
	if n != 1 {
		return false, nil // another worker claimed it first
	}
	claimed := time.Now() // the lease runs on the wall clock

	sendCtx, cancel := context.WithTimeout(ctx, sendTimeout)
	sendErr := w.send(sendCtx, m, now)
	cancel()
	interrupted := sendErr != nil && ctx.Err() != nil

	// Record the outcome even when ctx was cancelled meanwhile, and retry
	// while the database is unreachable: a message left SENDING waits for
	// its lease and is then sent again.
	upd := func() *ent.OutboxMessageUpdate {
		return w.client.OutboxMessage.Update().Where(
			outboxmessage.ID(m.ID),
			outboxmessage.StatusEQ(outboxmessage.StatusSENDING),
			outboxmessage.AttemptsEQ(attempt),
		)
	}
	done := dbTime(w.now())
	if sendErr == nil {
		// The body held a link or code: once delivered it is not kept.
		n, err = w.recordOutcome(ctx, claimed, func(fctx context.Context) (int, error) {
			return upd().SetStatus(outboxmessage.StatusSENT).SetSentAt(done).SetBody(redactedBody).SetHTMLBody("").SetUnsubscribeURL("").Save(fctx)
		})
		if err != nil {
			return true, fmt.Errorf("outbox: mark %s sent: %w", m.ID, err)
		}
		if n != 1 {
			w.log.Warn("outbox: message sent after its lease expired; it may be sent twice", "id", m.ID)
		}
		metrics.OutboxDeliveries.WithLabelValues(strings.ToLower(string(m.Channel)), "sent").Inc()
		w.log.Debug("outbox: message sent", "id", m.ID, "channel", m.Channel, "attempt", attempt)
		return true, nil
	}

	msg := errorText(sendErr)
	if interrupted {
		msg = "interrupted: " + msg
	}
	failed := attempt >= w.maxAttempts
	delay := Backoff(attempt)
	if interrupted {
		delay = 0 // shutting down: the next instance may try at once
	}
	_, err = w.recordOutcome(ctx, claimed, func(fctx context.Context) (int, error) {
		u := upd().SetLastError(msg)
		if failed {
			u.SetStatus(outboxmessage.StatusFAILED).SetBody(redactedBody).SetHTMLBody("").SetUnsubscribeURL("")
		} else {
			u.SetStatus(outboxmessage.StatusPENDING).SetNextAttemptAt(done.Add(delay))
		}
		return u.Save(fctx)
	})
	if failed {
		metrics.OutboxDeliveries.WithLabelValues(strings.ToLower(string(m.Channel)), "failed").Inc()
		w.log.Error("outbox: message failed permanently", "id", m.ID, "channel", m.Channel,
			"attempts", attempt, "error", msg)
	} else {
		metrics.OutboxDeliveries.WithLabelValues(strings.ToLower(string(m.Channel)), "retry").Inc()
		w.log.Warn("outbox: delivery failed, will retry", "id", m.ID, "channel", m.Channel,
			"attempt", attempt, "retry_in", delay.String(), "error", msg)
	}
	if err != nil {
		return false, fmt.Errorf("outbox: record failure of %s: %w", m.ID, err)
	}
	return false, nil
}

// recordOutcome runs save until it succeeds, pausing between tries, for as
// long as the claim's lease leaves time (until 15 s before it ends): after
// a send, an unreachable database must not make the message look unsent.
// When the worker is stopping (ctx done) it tries once more and gives up.
func (w *Worker) recordOutcome(ctx context.Context, claimed time.Time, save func(context.Context) (int, error)) (int, error) {
	deadline := claimed.Add(Lease - 15*time.Second)
	pause := 250 * time.Millisecond
	for {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		n, err := save(fctx)
		cancel()
		if err == nil || ctx.Err() != nil || time.Now().Add(pause).After(deadline) {
			return n, err
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
		pause = min(2*pause, 5*time.Second)
	}
}

// unchanged matches m only while it is still in the state it was read in
// and due. Every claim increments attempts, so (status, attempts) identifies
// the state exactly: of two workers racing for m, one update matches.
func (w *Worker) unchanged(m *ent.OutboxMessage, now time.Time) []predicate.OutboxMessage {
	return []predicate.OutboxMessage{
		outboxmessage.ID(m.ID),
		outboxmessage.StatusEQ(m.Status),
		outboxmessage.AttemptsEQ(m.Attempts),
		outboxmessage.NextAttemptAtLTE(now),
	}
}

func (w *Worker) send(ctx context.Context, m *ent.OutboxMessage, now time.Time) error {
	var (
		t         transport
		configErr error
	)
	switch m.Channel {
	case outboxmessage.ChannelEMAIL:
		t, configErr = w.email, w.emailErr
	case outboxmessage.ChannelSMS:
		t, configErr = w.sms, w.smsErr
	default:
		return fmt.Errorf("unknown channel %q", m.Channel)
	}
	if t != nil {
		return t.send(ctx, m, now)
	}
	if configErr != nil {
		return configErr
	}
	if w.devLog == nil {
		return fmt.Errorf("no transport configured for %s", m.Channel)
	}
	w.devLog.Info(NoTransportLogMsg, "id", m.ID, "channel", m.Channel,
		"to", m.Recipient, "subject", m.Subject, "body", m.Body)
	return nil
}

// Backoff returns the pause after the n-th failed attempt (n >= 1):
// BackoffBase·2^(n-1), at most BackoffMax.
func Backoff(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	d := BackoffBase
	for i := 1; i < n; i++ {
		d *= 2
		if d >= BackoffMax {
			return BackoffMax
		}
	}
	return d
}

// errorText shortens err to one line of at most maxErrorChars.
func errorText(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) <= maxErrorChars {
		return s
	}
	cut := maxErrorChars
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
