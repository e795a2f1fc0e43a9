package outbox_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"portier/internal/database"
	pmail "portier/internal/mail"
	"portier/internal/outbox"
	"portier/internal/outbox/smtpsink"
)

// alternatives parses msg as multipart/alternative with net/mail and
// mime/multipart and returns the decoded parts by media type; each part
// must be UTF-8 text.
func alternatives(t *testing.T, msg *mail.Message) map[string]string {
	t.Helper()
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	parts := map[string]string{}
	var order []string
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pt, pp, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil || !strings.EqualFold(pp["charset"], "utf-8") {
			t.Fatalf("part Content-Type %q: %v", p.Header.Get("Content-Type"), err)
		}
		var r io.Reader = p
		if cte := p.Header.Get("Content-Transfer-Encoding"); cte == "quoted-printable" {
			r = quotedprintable.NewReader(p)
		} else {
			t.Errorf("%s part: Content-Transfer-Encoding %q", pt, cte)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		parts[pt] = strings.ReplaceAll(string(b), "\r\n", "\n")
		order = append(order, pt)
	}
	// RFC 2046: the preferred (richest) alternative comes last.
	if strings.Join(order, ",") != "text/plain,text/html" {
		t.Fatalf("parts %v, want text/plain then text/html", order)
	}
	return parts
}

func parse(t *testing.T, m smtpsink.Mail) *mail.Message {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(m.Raw))
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func testMultipartInTheRecipientsLanguage(t *testing.T, db *database.DB) {
	sink := smtpsink.Start(t)
	w := outbox.NewWorker(db.Client, outbox.Config{SMTPURL: sink.URL(), From: "Kundenportal Müller & Söhne <portal@hoster.example>", Log: quietLog()})
	data := map[string]string{"name": "Jörg <Müller>", "link": "https://portal.example/reset?token=tok-4711&x=1"}
	want := map[string][]string{
		"de": {"Ihr Link zum Zurücksetzen des Passworts", "Guten Tag Jörg <Müller>,", "30 Minuten"},
		"en": {"Your link to reset your password", "Hello Jörg <Müller>,", "30 minutes"},
	}
	for _, loc := range []string{"de", "en"} {
		e, err := pmail.RenderEmail(pmail.PasswordReset, loc, data)
		if err != nil {
			t.Fatal(err)
		}
		enqueue(t, db.Client, outbox.Email("Jörg Müller <"+loc+"@example.de>", e))
	}
	if n := deliver(t, w); n != 2 {
		t.Fatalf("sent %d", n)
	}
	for _, loc := range []string{"de", "en"} {
		got, err := sink.WaitFor(loc+"@example.de", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		msg := parse(t, got)
		h := msg.Header
		subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
		if err != nil || !strings.HasPrefix(subject, want[loc][0]) {
			t.Errorf("%s: Subject %q (%q): %v", loc, subject, h.Get("Subject"), err)
		}
		if from, err := h.AddressList("From"); err != nil || from[0].Name != "Kundenportal Müller & Söhne" || from[0].Address != "portal@hoster.example" {
			t.Errorf("%s: From %q: %v", loc, h.Get("From"), err)
		}
		if id := h.Get("Message-ID"); !strings.HasSuffix(id, "@hoster.example>") {
			t.Errorf("%s: Message-ID %q not in the sender's domain", loc, id)
		}
		for k, v := range map[string]string{"Content-Language": loc, "Auto-Submitted": "auto-generated", "List-Unsubscribe": "", "List-Unsubscribe-Post": ""} {
			if h.Get(k) != v {
				t.Errorf("%s: %s %q, want %q", loc, k, h.Get(k), v)
			}
		}
		parts := alternatives(t, msg)
		text, html := parts["text/plain"], parts["text/html"]
		for _, s := range want[loc][1:] {
			if !strings.Contains(text, s) {
				t.Errorf("%s: text part lacks %q:\n%s", loc, s, text)
			}
		}
		if !strings.Contains(text, data["link"]) {
			t.Errorf("%s: text part lacks the link", loc)
		}
		for _, s := range []string{`<html lang="` + loc + `">`, "Jörg &lt;Müller&gt;", want[loc][2], `href="https://portal.example/reset?token=tok-4711&amp;x=1"`} {
			if !strings.Contains(html, s) {
				t.Errorf("%s: HTML part lacks %q:\n%s", loc, s, html)
			}
		}
		if strings.Contains(html, "<Müller>") {
			t.Errorf("%s: name not escaped in HTML", loc)
		}
		other := map[string]string{"de": "Hello", "en": "Guten Tag"}[loc]
		if strings.Contains(text, other) || strings.Contains(html, other) {
			t.Errorf("%s: mail contains the other language's greeting", loc)
		}
	}
}

func testSMTPAuthOverSTARTTLS(t *testing.T, db *database.DB) {
	sink := smtpsink.StartWith(t, smtpsink.Options{User: "portier", Pass: "p@ss:w/rd", TLS: true})
	host := strings.TrimPrefix(sink.URL(), "smtp://")
	clk := &clock{}

	bad := outbox.NewWorker(db.Client, outbox.Config{SMTPURL: "smtp://portier:wrong-Pa55@" + host, RootCAs: sink.RootCAs(), Log: quietLog(), Now: clk.Now})
	enqueue(t, db.Client, email("a@example.de", "Betreff", "Text"))
	if n := deliver(t, bad); n != 0 {
		t.Fatal("sent with a wrong password")
	}
	m := only(t, db.Client)
	if !strings.Contains(m.LastError, "AUTH") || strings.Contains(m.LastError, "wrong-Pa55") {
		t.Fatalf("last_error %q", m.LastError)
	}

	good := outbox.NewWorker(db.Client, outbox.Config{SMTPURL: "smtp://portier:p%40ss%3Aw%2Frd@" + host, RootCAs: sink.RootCAs(), Log: quietLog(), Now: clk.Now})
	clk.Advance(outbox.BackoffBase + time.Second)
	if n := deliver(t, good); n != 1 {
		t.Fatalf("sent %d with the right password: %s", n, only(t, db.Client).LastError)
	}
	got, err := sink.WaitFor("a@example.de", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !got.TLS || !got.Authed {
		t.Fatalf("mail over TLS %v, authenticated %v", got.TLS, got.Authed)
	}
	auths := sink.Auths()
	if len(auths) != 2 {
		t.Fatalf("%d AUTH commands, want 2", len(auths))
	}
	for _, a := range auths {
		if !a.TLS {
			t.Fatal("AUTH over a plain connection")
		}
	}
}

func testAuthNeverWithoutTLS(t *testing.T, db *database.DB) {
	// The server offers AUTH on the plain connection and no STARTTLS:
	// credentials in the URL make STARTTLS mandatory, so nothing is sent.
	sink := smtpsink.StartWith(t, smtpsink.Options{User: "portier", Pass: "Sup3rSecret", InsecureAuth: true})
	host := strings.TrimPrefix(sink.URL(), "smtp://")
	w := outbox.NewWorker(db.Client, outbox.Config{SMTPURL: "smtp://portier:Sup3rSecret@" + host, Log: quietLog()})
	enqueue(t, db.Client, email("a@example.de", "Betreff", "Text"))
	if n := deliver(t, w); n != 0 {
		t.Fatal("sent without TLS")
	}
	if len(sink.Auths()) != 0 || len(sink.Messages()) != 0 {
		t.Fatalf("the server saw %d AUTH commands and %d mails", len(sink.Auths()), len(sink.Messages()))
	}
	if m := only(t, db.Client); !strings.Contains(m.LastError, "STARTTLS") || strings.Contains(m.LastError, "Sup3rSecret") {
		t.Fatalf("last_error %q", m.LastError)
	}
	// Asking for opportunistic STARTTLS with credentials is refused at start.
	err := outbox.Config{SMTPURL: "smtp://portier:Sup3rSecret@" + host + "?starttls=opportunistic"}.Validate()
	if err == nil || strings.Contains(err.Error(), "Sup3rSecret") || !strings.Contains(err.Error(), "without TLS") {
		t.Fatalf("Validate: %v", err)
	}
}

func testSTARTTLSRequired(t *testing.T, db *database.DB) {
	plain := smtpsink.Start(t)
	w := outbox.NewWorker(db.Client, outbox.Config{SMTPURL: plain.URL() + "?starttls=required", Log: quietLog()})
	enqueue(t, db.Client, email("a@example.de", "Betreff", "Text"))
	if n := deliver(t, w); n != 0 || len(plain.Messages()) != 0 {
		t.Fatal("sent without the required STARTTLS")
	}
	if m := only(t, db.Client); !strings.Contains(m.LastError, "STARTTLS") {
		t.Fatalf("last_error %q", m.LastError)
	}
	db.Client.OutboxMessage.Delete().ExecX(sys)

	secure := smtpsink.StartWith(t, smtpsink.Options{TLS: true})
	for _, u := range []string{secure.URL() + "?starttls=required", secure.URL()} { // required, and opportunistic when offered
		w := outbox.NewWorker(db.Client, outbox.Config{SMTPURL: u, RootCAs: secure.RootCAs(), Log: quietLog()})
		enqueue(t, db.Client, email("a@example.de", "Betreff", "Text"))
		if n := deliver(t, w); n != 1 {
			t.Fatalf("%s: sent %d: %v", u, n, db.Client.OutboxMessage.Query().AllX(sys))
		}
		got, err := secure.WaitFor("a@example.de", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if !got.TLS {
			t.Fatalf("%s: mail not sent over STARTTLS", u)
		}
	}
	// A certificate the client does not trust is no TLS at all.
	db.Client.OutboxMessage.Delete().ExecX(sys)
	w = outbox.NewWorker(db.Client, outbox.Config{SMTPURL: secure.URL(), Log: quietLog()})
	enqueue(t, db.Client, email("b@example.de", "Betreff", "Text"))
	if n := deliver(t, w); n != 0 {
		t.Fatal("sent to a server with an untrusted certificate")
	}
}

func testImplicitTLS(t *testing.T, db *database.DB) {
	sink := smtpsink.StartWith(t, smtpsink.Options{ImplicitTLS: true, User: "portier", Pass: "Sup3rSecret"})
	u := "smtps://portier:Sup3rSecret@" + strings.TrimPrefix(sink.URL(), "smtp://")
	w := outbox.NewWorker(db.Client, outbox.Config{SMTPURL: u, RootCAs: sink.RootCAs(), Log: quietLog()})
	enqueue(t, db.Client, email("a@example.de", "Betreff", "Text"))
	if n := deliver(t, w); n != 1 {
		t.Fatalf("sent %d: %s", n, only(t, db.Client).LastError)
	}
	got, err := sink.WaitFor("a@example.de", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !got.TLS || !got.Authed {
		t.Fatalf("TLS %v, authenticated %v", got.TLS, got.Authed)
	}
	if a := sink.Auths(); len(a) != 1 || !a[0].TLS || !a[0].OK {
		t.Fatalf("AUTH %+v", a)
	}
}

func testInsecureAuthForLocalTests(t *testing.T, db *database.DB) {
	sink := smtpsink.StartWith(t, smtpsink.Options{User: "portier", Pass: "dev", InsecureAuth: true})
	u := "smtp://portier:dev@" + strings.TrimPrefix(sink.URL(), "smtp://") + "?insecure_auth=true"
	w := outbox.NewWorker(db.Client, outbox.Config{SMTPURL: u, Log: quietLog()})
	enqueue(t, db.Client, email("a@example.de", "Betreff", "Text"))
	if n := deliver(t, w); n != 1 {
		t.Fatalf("sent %d: %s", n, only(t, db.Client).LastError)
	}
	if a := sink.Auths(); len(a) != 1 || a[0].TLS || !a[0].OK {
		t.Fatalf("AUTH %+v", a)
	}
}

func testFailedAuthedDeliveryLeaksNothing(t *testing.T, db *database.DB) {
	sink := smtpsink.StartWith(t, smtpsink.Options{User: "portier", Pass: "Sup3rSecret", TLS: true})
	var buf bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	clk := &clock{}
	w := outbox.NewWorker(db.Client, outbox.Config{
		SMTPURL: "smtp://portier:Sup3rSecret@" + strings.TrimPrefix(sink.URL(), "smtp://"),
		RootCAs: sink.RootCAs(), Log: log, Now: clk.Now,
	})
	e, err := pmail.RenderEmail(pmail.LoginCode, "de", map[string]string{"name": "Anna", "code": "48213"})
	if err != nil {
		t.Fatal(err)
	}
	enqueue(t, db.Client, outbox.Email("a@example.de", e))
	e, err = pmail.RenderEmail(pmail.PasswordReset, "en", map[string]string{"name": "Bob", "link": "https://portal.example/reset?token=LinkSecret"})
	if err != nil {
		t.Fatal(err)
	}
	enqueue(t, db.Client, outbox.Email("b@example.de", e))
	sink.FailNext(2)
	if n := deliver(t, w); n != 0 {
		t.Fatalf("sent %d despite failures", n)
	}
	for _, m := range db.Client.OutboxMessage.Query().AllX(sys) {
		if m.Status != "PENDING" || m.Attempts != 1 || !strings.Contains(m.LastError, "451") {
			t.Fatalf("after the failure: status %s attempts %d last_error %q", m.Status, m.Attempts, m.LastError)
		}
	}
	clk.Advance(outbox.BackoffBase + time.Second)
	if n := deliver(t, w); n != 2 {
		t.Fatalf("retry sent %d, want 2", n)
	}
	for _, m := range db.Client.OutboxMessage.Query().AllX(sys) {
		if m.Status != "SENT" || m.Attempts != 2 || m.HTMLBody != "" || strings.Contains(m.Body, "48213") {
			t.Fatalf("after the retry: status %s attempts %d, body kept", m.Status, m.Attempts)
		}
	}
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	if !strings.Contains(out, "will retry") {
		t.Errorf("failure not logged:\n%s", out)
	}
	for _, s := range []string{"Sup3rSecret", "48213", "LinkSecret", "a@example.de", "b@example.de"} {
		if strings.Contains(out, s) {
			t.Errorf("log contains %q:\n%s", s, out)
		}
	}
}

func testEnqueueRefusesUnsubscribeOnSecurityMail(t *testing.T, db *database.DB) {
	for _, kind := range []string{pmail.PasswordReset, pmail.LoginCode, pmail.ContactInvitation, pmail.ContactAdded, ""} {
		m := email("a@example.de", "Betreff", "Text")
		m.Kind, m.Unsubscribe = kind, "https://portal.example/unsubscribe?t=1"
		if err := outbox.Enqueue(t.Context(), db.Client, m); !errors.Is(err, outbox.ErrInvalidMessage) {
			t.Errorf("%q: List-Unsubscribe accepted: %v", kind, err)
		}
	}
	sms := outbox.Message{Channel: outbox.ChannelSMS, To: "+49170", Body: "x", HTML: "<p>x</p>"}
	if err := outbox.Enqueue(t.Context(), db.Client, sms); !errors.Is(err, outbox.ErrInvalidMessage) {
		t.Errorf("SMS with HTML accepted: %v", err)
	}
	if n := db.Client.OutboxMessage.Query().CountX(sys); n != 0 {
		t.Fatalf("%d messages written", n)
	}
}

func testCancelEndsAHangingDelivery(t *testing.T, db *database.DB) {
	// A server that accepts the connection and never greets.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer func() { _ = c.Close() }()
		}
	}()
	w := outbox.NewWorker(db.Client, outbox.Config{SMTPURL: "smtp://" + l.Addr().String(), Log: quietLog()})
	enqueue(t, db.Client, email("a@example.de", "Betreff", "Text"))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _ = w.DeliverDue(ctx)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("a cancelled delivery took %v", d)
	}
	if m := only(t, db.Client); m.Status != "PENDING" || !strings.HasPrefix(m.LastError, "interrupted:") {
		t.Fatalf("status %s last_error %q", m.Status, m.LastError)
	}
}
