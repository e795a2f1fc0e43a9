// Package smtpsink is a real SMTP server for tests: it listens on
// 127.0.0.1, accepts every message, keeps it in memory and lets a test wait
// for the mail to an address. It is not a _test file so that tests of other
// packages can use it.
package smtpsink

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mail is one received message.
type Mail struct {
	From    string   // envelope sender (MAIL FROM)
	To      []string // envelope recipients (RCPT TO)
	Subject string   // decoded Subject header
	Body    string   // decoded text body, line endings "\n"
	Raw     string   // the message as received (headers and encoded body)
}

// Sink is a running SMTP server.
type Sink struct {
	srv  *smtp.Server
	addr string
	user string // with AUTH PLAIN required when not empty
	pass string

	mu       sync.Mutex
	msgs     []Mail
	returned map[string]int // per lower-case address: mails handed out by WaitFor
	failNext int
	changed  chan struct{} // closed and replaced when a mail arrives
}

// Start starts a sink on 127.0.0.1 (a free port) that accepts mail without
// authentication; it stops when t ends.
func Start(t testing.TB) *Sink { return start(t, "", "") }

// StartWithAuth starts a sink that requires AUTH PLAIN with user and pass
// before it accepts mail (over the plain connection: the client sees
// 127.0.0.1, which net/smtp treats as local).
func StartWithAuth(t testing.TB, user, pass string) *Sink { return start(t, user, pass) }

func start(t testing.TB, user, pass string) *Sink {
	t.Helper()
	s := &Sink{user: user, pass: pass, returned: map[string]int{}, changed: make(chan struct{})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtpsink: listen: %v", err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		sess := &session{sink: s}
		if user != "" {
			return &authSession{session: sess}, nil
		}
		return sess, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 100
	srv.ErrorLog = log.New(io.Discard, "", 0)
	s.srv = srv
	s.addr = l.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		// Close alone misses a listener Serve has not registered yet.
		_ = srv.Close()
		_ = l.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Errorf("smtpsink: server did not stop")
		}
	})
	return s
}

// URL returns the sink's address as "smtp://127.0.0.1:PORT".
func (s *Sink) URL() string { return "smtp://" + s.addr }

// Addr returns "127.0.0.1:PORT".
func (s *Sink) Addr() string { return s.addr }

// Messages returns every mail received so far, in order of arrival.
func (s *Sink) Messages() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.msgs...)
}

// FailNext makes the next n DATA commands fail with a 451 temporary error.
func (s *Sink) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = n
}

// WaitFor returns the first mail to the address to (case-insensitive) that
// no earlier WaitFor for that address returned, waiting up to timeout for
// it to arrive. Successive calls thus return the 1st, 2nd, … mail to to.
func (s *Sink) WaitFor(to string, timeout time.Duration) (Mail, error) {
	key := normAddr(to)
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		seen := 0
		for _, m := range s.msgs {
			if !m.sentTo(key) {
				continue
			}
			if seen == s.returned[key] {
				s.returned[key]++
				s.mu.Unlock()
				return m, nil
			}
			seen++
		}
		total, changed := len(s.msgs), s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			return Mail{}, fmt.Errorf("smtpsink: no new mail to %s within %v (%d mails received in total, %d to %s already returned)",
				to, timeout, total, seen, to)
		}
	}
}

func (m Mail) sentTo(key string) bool {
	for _, r := range m.To {
		if normAddr(r) == key {
			return true
		}
	}
	return false
}

func normAddr(a string) string {
	return strings.ToLower(strings.Trim(strings.TrimSpace(a), "<>"))
}

func (s *Sink) takeFailure() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext > 0 {
		s.failNext--
		return true
	}
	return false
}

func (s *Sink) add(m Mail) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	close(s.changed)
	s.changed = make(chan struct{})
}

type session struct {
	sink   *Sink
	authed bool
	from   string
	to     []string
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.sink.user != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if ss.sink.takeFailure() {
		return &smtp.SMTPError{
			Code:         451,
			EnhancedCode: smtp.EnhancedCode{4, 3, 0},
			Message:      "smtpsink: temporary failure (FailNext), try again later",
		}
	}
	m := Mail{From: ss.from, To: append([]string(nil), ss.to...), Raw: string(raw)}
	m.Subject, m.Body, err = decode(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "smtpsink: " + err.Error()}
	}
	ss.sink.add(m)
	return nil
}

type authSession struct{ *session }

func (as *authSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (as *authSession) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if identity != "" && identity != username {
			return errors.New("identity not supported")
		}
		if username != as.sink.user || password != as.sink.pass {
			return smtp.ErrAuthFailed
		}
		as.authed = true
		return nil
	}), nil
}

// decode returns the decoded Subject and text body of a raw message.
func decode(raw []byte) (subject, body string, err error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return "", "", fmt.Errorf("parse message: %w", err)
	}
	subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return "", "", fmt.Errorf("decode subject: %w", err)
	}
	var r io.Reader = msg.Body
	switch strings.ToLower(strings.TrimSpace(msg.Header.Get("Content-Transfer-Encoding"))) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return "", "", fmt.Errorf("decode body: %w", err)
	}
	return subject, strings.ReplaceAll(string(b), "\r\n", "\n"), nil
}
