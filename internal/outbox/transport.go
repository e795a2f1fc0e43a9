package outbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"net/smtp"
	"net/url"
	"os"
	"strings"
	"time"

	"portier/ent"
)

// DefaultFrom is the sender when Config.From is empty.
const DefaultFrom = "Portier <no-reply@portier.local>"

const (
	dialTimeout = 10 * time.Second
	httpTimeout = 30 * time.Second
)

type transports struct {
	email, sms       transport
	emailErr, smsErr error
}

// newTransports builds the configured transports. Errors never quote the
// URLs: they may hold passwords or tokens.
func newTransports(cfg Config) (transports, error) {
	var ts transports
	if cfg.SMTPURL != "" {
		t, err := newSMTPTransport(cfg.SMTPURL, cfg.From)
		if err != nil {
			ts.emailErr = err
		} else {
			ts.email = t
		}
	}
	if cfg.SMSWebhookURL != "" {
		t, err := newSMSTransport(cfg.SMSWebhookURL)
		if err != nil {
			ts.smsErr = err
		} else {
			ts.sms = t
		}
	}
	return ts, errors.Join(ts.emailErr, ts.smsErr)
}

// ---- e-mail ----

type smtpTransport struct {
	addr        string // host:port
	host        string
	implicitTLS bool
	auth        smtp.Auth // nil: no AUTH
	from        *mail.Address
	helo        string
}

func newSMTPTransport(rawURL, from string) (*smtpTransport, error) {
	if from == "" {
		from = DefaultFrom
	}
	sender, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("outbox: invalid sender address (From): %w", err)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("outbox: invalid SMTP URL (characters in user or password must be percent-encoded)")
	}
	t := &smtpTransport{host: u.Hostname(), from: sender, helo: heloName()}
	port := u.Port()
	switch u.Scheme {
	case "smtp":
		if port == "" {
			port = "25"
		}
	case "smtps":
		t.implicitTLS = true
		if port == "" {
			port = "465"
		}
	default:
		return nil, errors.New("outbox: invalid SMTP URL: scheme must be smtp or smtps")
	}
	if t.host == "" {
		return nil, errors.New("outbox: invalid SMTP URL: no host")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("outbox: invalid SMTP URL: unexpected path, query or fragment")
	}
	t.addr = net.JoinHostPort(t.host, port)
	if u.User != nil {
		pass, _ := u.User.Password()
		// net/smtp's PLAIN refuses to send credentials unless the
		// connection is TLS or the host is localhost.
		t.auth = smtp.PlainAuth("", u.User.Username(), pass, t.host)
	}
	return t, nil
}

func heloName() string {
	if h, err := os.Hostname(); err == nil && strings.Contains(h, ".") {
		return h
	}
	return "localhost"
}

func (t *smtpTransport) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: t.host, MinVersion: tls.VersionTLS12}
}

func (t *smtpTransport) send(ctx context.Context, m *ent.OutboxMessage, now time.Time) error {
	to, err := mail.ParseAddress(m.Recipient)
	if err != nil {
		return errors.New("recipient is not a valid e-mail address")
	}
	msg := composeEmail(t.from, to, m.Subject, m.Body, now)

	d := &net.Dialer{Timeout: dialTimeout}
	var conn net.Conn
	if t.implicitTLS {
		conn, err = (&tls.Dialer{NetDialer: d, Config: t.tlsConfig()}).DialContext(ctx, "tcp", t.addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", t.addr)
	}
	if err != nil {
		return fmt.Errorf("smtp connect: %w", err)
	}
	defer func() { _ = conn.Close() }()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// net/smtp knows no context: a cancelled ctx unblocks pending I/O.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, t.host)
	if err != nil {
		return fmt.Errorf("smtp greeting: %w", err)
	}
	defer func() { _ = c.Close() }()
	if err := c.Hello(t.helo); err != nil {
		return fmt.Errorf("smtp EHLO: %w", err)
	}
	if !t.implicitTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(t.tlsConfig()); err != nil {
				return fmt.Errorf("smtp STARTTLS: %w", err)
			}
		}
	}
	if t.auth != nil {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("smtp AUTH: not offered by the server")
		}
		if err := c.Auth(t.auth); err != nil {
			return fmt.Errorf("smtp AUTH: %w", err)
		}
	}
	if err := c.Mail(t.from.Address); err != nil {
		return fmt.Errorf("smtp MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to.Address); err != nil {
		return fmt.Errorf("smtp RCPT TO: %w", err)
	}
	wc, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp DATA: %w", err)
	}
	if _, err := wc.Write(msg); err != nil {
		return fmt.Errorf("smtp DATA: %w", err)
	}
	if err := wc.Close(); err != nil { // the server's verdict on the message
		return fmt.Errorf("smtp DATA: %w", err)
	}
	_ = c.Quit() // the message is accepted; a failing QUIT changes nothing
	return nil
}

// composeEmail returns the message: headers and a quoted-printable UTF-8
// plain-text body, CRLF line endings.
func composeEmail(from, to *mail.Address, subject, body string, now time.Time) []byte {
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", from.String())
	header("To", to.String())
	header("Subject", encodeSubject(subject))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", messageID(from.Address))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b) // converts "\n" to CRLF
	_, _ = qp.Write([]byte(strings.ReplaceAll(body, "\r\n", "\n")))
	_ = qp.Close()
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// encodeSubject returns the Subject header value: as is when it is plain
// printable ASCII, else as RFC 2047 Q-encoded words of whole characters,
// folded so that no line exceeds 78 characters.
func encodeSubject(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if mime.QEncoding.Encode("utf-8", s) == s && len(s) <= 69 {
		return s
	}
	const (
		prefix  = "=?utf-8?q?"
		suffix  = "?="
		maxWord = 66 // "Subject: " + word, or " " + word, stays within 78
	)
	var words []string
	var cur strings.Builder
	for _, r := range s {
		enc := qEncodeRune(r)
		if cur.Len() > 0 && len(prefix)+cur.Len()+len(enc)+len(suffix) > maxWord {
			words = append(words, prefix+cur.String()+suffix)
			cur.Reset()
		}
		cur.WriteString(enc)
	}
	if cur.Len() > 0 {
		words = append(words, prefix+cur.String()+suffix)
	}
	return strings.Join(words, "\r\n ")
}

// qEncodeRune encodes r for an RFC 2047 Q-encoded word in a header.
func qEncodeRune(r rune) string {
	switch {
	case r == ' ':
		return "_"
	case r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!*+-/", r)):
		return string(r)
	}
	var b strings.Builder
	for _, c := range []byte(string(r)) {
		fmt.Fprintf(&b, "=%02X", c)
	}
	return b.String()
}

func messageID(fromAddr string) string {
	domain := "portier.local"
	if i := strings.LastIndexByte(fromAddr, '@'); i >= 0 && i+1 < len(fromAddr) {
		domain = fromAddr[i+1:]
	}
	var r [16]byte
	_, _ = rand.Read(r[:])
	return "<" + hex.EncodeToString(r[:]) + "@" + domain + ">"
}

// ---- SMS ----

type smsTransport struct {
	url    string
	client *http.Client
}

func newSMSTransport(rawURL string) (*smsTransport, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("outbox: invalid SMS webhook URL: must be an http or https URL")
	}
	return &smsTransport{url: rawURL, client: &http.Client{Timeout: httpTimeout}}, nil
}

func (t *smsTransport) send(ctx context.Context, m *ent.OutboxMessage, _ time.Time) error {
	payload, err := json.Marshal(struct {
		To   string `json:"to"`
		Body string `json:"body"`
	}{m.Recipient, m.Body})
	if err != nil {
		return fmt.Errorf("sms webhook: encode: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(payload))
	if err != nil {
		return errors.New("sms webhook: cannot build request")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := t.client.Do(req)
	if err != nil {
		// *url.Error quotes the URL, which may carry a token.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("sms webhook: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("sms webhook: HTTP %d", resp.StatusCode)
	}
	return nil
}
