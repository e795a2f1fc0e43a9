package outbox

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"portier/ent"
	"portier/internal/mail"
)

// smtpTimeout bounds the connection with its greeting, STARTTLS and AUTH,
// and then again the transfer of the message (go-mail's connection
// timeout). Both stay well inside the worker's sendTimeout; a cancelled
// context closes the connection at once.
const smtpTimeout = 25 * time.Second

// SMTPSettings is a parsed SMTP URL (ParseSMTPURL). It never prints the
// password.
type SMTPSettings struct {
	Host        string
	Port        int
	ImplicitTLS bool // smtps://
	// STARTTLSRequired: smtp:// refuses to go on when the server offers
	// no STARTTLS (or the handshake fails). Otherwise STARTTLS is used
	// whenever the server offers it.
	STARTTLSRequired bool
	Username         string
	password         string
	// Auth is the chosen mechanism ("plain", "login", "cram-md5",
	// "scram-sha-1", "scram-sha-256"); empty: PLAIN, else LOGIN, as the
	// server offers.
	Auth string
	// InsecureAuth allows credentials over a connection without TLS
	// (?insecure_auth=true): for a local test server only.
	InsecureAuth bool
}

// String describes s without the password.
func (s SMTPSettings) String() string {
	scheme := "smtp"
	if s.ImplicitTLS {
		scheme = "smtps"
	}
	user := ""
	if s.Username != "" {
		user = url.User(s.Username).String() + ":***@"
	}
	return scheme + "://" + user + net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
}

var authTypes = map[string]gomail.SMTPAuthType{
	"plain":         gomail.SMTPAuthPlain,
	"login":         gomail.SMTPAuthLogin,
	"cram-md5":      gomail.SMTPAuthCramMD5,
	"scram-sha-1":   gomail.SMTPAuthSCRAMSHA1,
	"scram-sha-256": gomail.SMTPAuthSCRAMSHA256,
}

// ParseSMTPURL reads the SMTP URL of the configuration (SMTP_URL):
//
//	smtp://host[:port]        port 25; STARTTLS or no delivery (on a
//	                          loopback host: STARTTLS whenever offered)
//	smtp://host?starttls=opportunistic
//	                          STARTTLS whenever the server offers it
//	smtps://host[:port]       implicit TLS (port 465)
//	smtp[s]://user:pass@host  AUTH; user and password percent-encoded
//
// Credentials are sent only over TLS: with them, smtp:// requires STARTTLS
// (starttls=opportunistic is refused). Query parameters: starttls
// (opportunistic or required, smtp:// only), auth (plain, login, cram-md5,
// scram-sha-1, scram-sha-256; default PLAIN, else LOGIN, as the server
// offers) and insecure_auth=true, which allows credentials over a plain
// connection — for a local test server only. Errors never quote the URL.
func ParseSMTPURL(raw string) (SMTPSettings, error) {
	var s SMTPSettings
	u, err := url.Parse(raw)
	if err != nil {
		return s, errors.New("outbox: invalid SMTP URL (characters in user or password must be percent-encoded)")
	}
	switch u.Scheme {
	case "smtp":
		s.Port = 25
	case "smtps":
		s.ImplicitTLS, s.Port = true, 465
	default:
		return s, errors.New("outbox: invalid SMTP URL: scheme must be smtp or smtps")
	}
	if s.Host = u.Hostname(); s.Host == "" {
		return s, errors.New("outbox: invalid SMTP URL: no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return s, errors.New("outbox: invalid SMTP URL: port must be 1 to 65535")
		}
		s.Port = n
	}
	if (u.Path != "" && u.Path != "/") || u.Fragment != "" || u.Opaque != "" {
		return s, errors.New("outbox: invalid SMTP URL: unexpected path or fragment")
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.password, _ = u.User.Password()
		if s.Username == "" {
			return s, errors.New("outbox: invalid SMTP URL: credentials without a user name")
		}
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return s, errors.New("outbox: invalid SMTP URL: malformed query")
	}
	starttls := ""
	for k, vs := range q {
		if len(vs) != 1 {
			return s, fmt.Errorf("outbox: invalid SMTP URL: parameter %s given %d times", k, len(vs))
		}
		v := strings.ToLower(vs[0])
		switch k {
		case "starttls":
			if v != "required" && v != "opportunistic" {
				return s, errors.New("outbox: invalid SMTP URL: starttls must be required or opportunistic")
			}
			if s.ImplicitTLS {
				return s, errors.New("outbox: invalid SMTP URL: starttls is for smtp://; smtps:// is TLS from the start")
			}
			starttls = v
		case "auth":
			if _, ok := authTypes[v]; !ok {
				return s, errors.New("outbox: invalid SMTP URL: auth must be plain, login, cram-md5, scram-sha-1 or scram-sha-256")
			}
			s.Auth = v
		case "insecure_auth":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return s, errors.New("outbox: invalid SMTP URL: insecure_auth must be true or false")
			}
			s.InsecureAuth = b
		default:
			return s, fmt.Errorf("outbox: invalid SMTP URL: unknown parameter %q (known: starttls, auth, insecure_auth)", k)
		}
	}
	if s.Username == "" && (s.Auth != "" || s.InsecureAuth) {
		return s, errors.New("outbox: invalid SMTP URL: auth and insecure_auth need a user in the URL")
	}
	s.STARTTLSRequired = starttls == "required"
	if starttls == "" && !s.ImplicitTLS && !isLoopbackHost(s.Host) {
		// Mail carries reset links and login codes: across a network,
		// someone in the path could strip an offered STARTTLS and read
		// them. Plain delivery to a remote server must be asked for
		// (starttls=opportunistic); a server on this machine needs no TLS.
		s.STARTTLSRequired = true
	}
	if s.Username != "" && !s.ImplicitTLS && !s.InsecureAuth {
		if starttls == "opportunistic" {
			return s, errors.New("outbox: invalid SMTP URL: credentials would be sent without TLS " +
				"(starttls=opportunistic); use starttls=required (the default with credentials) or smtps://, " +
				"or insecure_auth=true for a local test server")
		}
		s.STARTTLSRequired = true
	}
	return s, nil
}

type smtpTransport struct {
	s       SMTPSettings
	from    *netmail.Address
	domain  string // of the sender: Message-IDs
	helo    string
	rootCAs *x509.CertPool
}

func newSMTPTransport(rawURL, from string, rootCAs *x509.CertPool) (*smtpTransport, error) {
	if from == "" {
		from = DefaultFrom
	}
	sender, err := netmail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("outbox: invalid sender address (From): %w", err)
	}
	s, err := ParseSMTPURL(rawURL)
	if err != nil {
		return nil, err
	}
	domain := "portier.local"
	if i := strings.LastIndexByte(sender.Address, '@'); i >= 0 && i+1 < len(sender.Address) {
		domain = sender.Address[i+1:]
	}
	return &smtpTransport{s: s, from: sender, domain: domain, helo: heloName(), rootCAs: rootCAs}, nil
}

func heloName() string {
	if h, err := os.Hostname(); err == nil && strings.Contains(h, ".") {
		return h
	}
	return "localhost"
}

func (t *smtpTransport) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: t.s.Host, MinVersion: tls.VersionTLS12, RootCAs: t.rootCAs}
}

// options are go-mail's client options for one delivery. The connection is
// dialled here (TLS first for smtps://) so that a cancelled ctx closes it;
// go-mail does STARTTLS, AUTH and the transfer.
func (t *smtpTransport) options(dial gomail.DialContextFunc) []gomail.Option {
	opts := []gomail.Option{
		gomail.WithPort(t.s.Port),
		gomail.WithTimeout(smtpTimeout),
		gomail.WithHELO(t.helo),
		gomail.WithTLSConfig(t.tlsConfig()),
		gomail.WithDialContextFunc(dial),
	}
	switch {
	case t.s.ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case t.s.STARTTLSRequired:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if t.s.Username != "" {
		opts = append(opts, gomail.WithUsername(t.s.Username), gomail.WithPassword(t.s.password))
		// PLAIN and LOGIN refuse a connection without TLS (but to
		// localhost); the -NOENC variants are insecure_auth.
		plain, login := gomail.SMTPAuthPlain, gomail.SMTPAuthLogin
		if t.s.InsecureAuth {
			plain, login = gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthLoginNoEnc
		}
		switch t.s.Auth {
		case "":
			opts = append(opts, gomail.WithOpportunisticSMTPAuth(plain, login))
		case "plain":
			opts = append(opts, gomail.WithSMTPAuth(plain))
		case "login":
			opts = append(opts, gomail.WithSMTPAuth(login))
		default:
			opts = append(opts, gomail.WithSMTPAuth(authTypes[t.s.Auth]))
		}
	}
	return opts
}

func (t *smtpTransport) send(ctx context.Context, m *ent.OutboxMessage, now time.Time) error {
	msg, err := t.compose(m, now)
	if err != nil {
		return err
	}
	var (
		raw  net.Conn
		stop = func() bool { return false }
	)
	defer func() {
		stop()
		if raw != nil {
			_ = raw.Close()
		}
	}()
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(dctx, network, addr)
		if err != nil {
			return nil, err
		}
		raw = c
		// go-mail's SMTP client knows no context after the dial: a
		// cancelled ctx closes the connection, which ends pending I/O.
		stop = context.AfterFunc(ctx, func() { _ = c.Close() })
		if !t.s.ImplicitTLS {
			return c, nil
		}
		tc := tls.Client(c, t.tlsConfig())
		if err := tc.HandshakeContext(dctx); err != nil {
			return nil, fmt.Errorf("TLS: %w", err)
		}
		return tc, nil
	}
	client, err := gomail.NewClient(t.s.Host, t.options(dial)...)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	sc, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return fmt.Errorf("smtp connect: %s", smtpErrorText(err))
	}
	if err := client.SendWithSMTPClient(sc, msg); err != nil {
		return fmt.Errorf("smtp: %s", smtpErrorText(err))
	}
	// The message is accepted: a failing QUIT changes nothing.
	_ = client.CloseWithSMTPClient(sc)
	return nil
}

// smtpErrorText is err without the recipients and Message-ID go-mail
// appends to a send error (a log line needs neither).
func smtpErrorText(err error) string {
	s := err.Error()
	for _, cut := range []string{", affected recipient(s):", ", affected message ID:"} {
		if i := strings.Index(s, cut); i >= 0 {
			s = s[:i]
		}
	}
	return s
}

// compose builds the message: multipart/alternative of the text and the
// HTML body (quoted-printable UTF-8), RFC 2047 encoded headers.
func (t *smtpTransport) compose(m *ent.OutboxMessage, now time.Time) (*gomail.Msg, error) {
	to, err := netmail.ParseAddress(m.Recipient)
	if err != nil {
		return nil, errors.New("recipient is not a valid e-mail address")
	}
	html := m.HTMLBody
	if html == "" { // written before HTML bodies existed
		if html, err = mail.TextToHTML(m.Language, m.Subject, m.Body); err != nil {
			return nil, fmt.Errorf("render HTML: %w", err)
		}
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(t.from)
	msg.AddToMailAddress(to)
	msg.Subject(m.Subject)
	msg.SetDateWithValue(now)
	msg.SetMessageIDWithValue(randomID() + "@" + t.domain)
	if m.Language != "" {
		msg.SetGenHeader(gomail.HeaderContentLang, m.Language)
	}
	// Sent by a program, not a person: no out-of-office answers.
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	// List-Unsubscribe is decided per kind in internal/mail: never on
	// security mail, whatever the row says.
	if m.UnsubscribeURL != "" && mayUnsubscribe(m.Kind) {
		msg.SetGenHeaderPreformatted(gomail.HeaderListUnsubscribe, "<"+m.UnsubscribeURL+">")
		msg.SetGenHeaderPreformatted(gomail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	msg.AddAlternativeString(gomail.TypeTextHTML, html)
	return msg, nil
}

// mayUnsubscribe is mail.MayUnsubscribe; tests replace it, as no kind is
// opt-out-able today.
var mayUnsubscribe = mail.MayUnsubscribe

func randomID() string {
	var r [16]byte
	_, _ = rand.Read(r[:])
	return hex.EncodeToString(r[:])
}

// isLoopbackHost reports whether host is this machine: localhost or a
// loopback address.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
