// Package smtpsink is a real SMTP server for tests: it listens on
// 127.0.0.1, accepts every message, keeps it in memory and lets a test wait
// for the mail to an address. It can offer STARTTLS, speak implicit TLS and
// require AUTH (Options). It is not a _test file so that tests of other
// packages can use it.
package smtpsink

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/multipart"
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
	Body    string   // decoded text/plain body (part), line endings "\n"
	HTML    string   // decoded text/html part of multipart/alternative, line endings "\n"
	Header  mail.Header
	Raw     string // the message as received (headers and encoded body)
	TLS     bool   // the session was encrypted (STARTTLS or implicit TLS)
	Authed  bool   // the session authenticated
}

// Options configure a sink.
type Options struct {
	// User and Pass: AUTH PLAIN with them is required before MAIL.
	User, Pass string
	// TLS: the sink offers STARTTLS with a self-signed certificate for
	// 127.0.0.1 and localhost (Sink.RootCAs trusts it).
	TLS bool
	// ImplicitTLS: TLS from the first byte (smtps://); implies TLS.
	ImplicitTLS bool
	// InsecureAuth offers AUTH on a connection without TLS too; without
	// it AUTH is offered only after STARTTLS (or with implicit TLS).
	InsecureAuth bool
}

// AuthAttempt is one AUTH command the sink received.
type AuthAttempt struct {
	TLS bool // over an encrypted connection
	OK  bool
}

// Sink is a running SMTP server.
type Sink struct {
	srv  *smtp.Server
	addr string
	user string // with AUTH PLAIN required when not empty
	pass string
	cas  *x509.CertPool

	mu       sync.Mutex
	msgs     []Mail
	returned map[string]int // per lower-case address: mails handed out by WaitFor
	failNext int
	auths    []AuthAttempt
	changed  chan struct{} // closed and replaced when a mail arrives
}

// Start starts a sink on 127.0.0.1 (a free port) that accepts mail without
// authentication or TLS; it stops when t ends.
func Start(t testing.TB) *Sink { return StartWith(t, Options{}) }

// StartWith starts a sink with o.
func StartWith(t testing.TB, o Options) *Sink {
	t.Helper()
	s := &Sink{user: o.User, pass: o.Pass, returned: map[string]int{}, changed: make(chan struct{})}
	var l net.Listener
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtpsink: listen: %v", err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		sess := &session{sink: s, conn: c}
		if o.User != "" {
			return &authSession{session: sess}, nil
		}
		return sess, nil
	}))
	if o.TLS || o.ImplicitTLS {
		cfg, pool := selfSigned(t)
		s.cas = pool
		if o.ImplicitTLS {
			l = tls.NewListener(l, cfg)
		} else {
			srv.TLSConfig = cfg
		}
	}
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = o.InsecureAuth || o.ImplicitTLS
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

// RootCAs trusts the sink's self-signed certificate (nil without TLS).
func (s *Sink) RootCAs() *x509.CertPool { return s.cas }

// Auths returns the AUTH commands received so far.
func (s *Sink) Auths() []AuthAttempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]AuthAttempt(nil), s.auths...)
}

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
	conn   *smtp.Conn
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
	_, isTLS := ss.conn.TLSConnectionState()
	m := Mail{From: ss.from, To: append([]string(nil), ss.to...), Raw: string(raw), TLS: isTLS, Authed: ss.authed}
	err = decode(raw, &m)
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
	_, isTLS := as.conn.TLSConnectionState()
	return sasl.NewPlainServer(func(identity, username, password string) error {
		ok := (identity == "" || identity == username) && username == as.sink.user && password == as.sink.pass
		as.sink.mu.Lock()
		as.sink.auths = append(as.sink.auths, AuthAttempt{TLS: isTLS, OK: ok})
		as.sink.mu.Unlock()
		if !ok {
			return smtp.ErrAuthFailed
		}
		as.authed = true
		return nil
	}), nil
}

// decode fills m's Header, Subject, Body and HTML from the raw message: a
// single text part, or multipart/alternative (or mixed) with text/plain and
// text/html parts.
func decode(raw []byte, m *Mail) error {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("parse message: %w", err)
	}
	m.Header = msg.Header
	m.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return fmt.Errorf("decode subject: %w", err)
	}
	return decodePart(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, m)
}

func decodePart(contentType, cte string, body io.Reader, m *Mail) error {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if contentType == "" {
		mediaType, err = "text/plain", nil
	}
	if err != nil {
		return fmt.Errorf("content type: %w", err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("multipart: %w", err)
			}
			if err := decodePart(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, m); err != nil {
				return err
			}
		}
	}
	r := body
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("decode body: %w", err)
	}
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	switch mediaType {
	case "text/plain":
		m.Body = text
	case "text/html":
		m.HTML = text
	}
	return nil
}

// selfSigned returns a server TLS configuration with a fresh self-signed
// certificate for 127.0.0.1 and localhost, and a pool that trusts it.
func selfSigned(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("smtpsink: key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smtpsink"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("smtpsink: certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("smtpsink: certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}},
		MinVersion: tls.VersionTLS12}, pool
}
