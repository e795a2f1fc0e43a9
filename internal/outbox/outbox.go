// Package outbox sends Portier's e-mails and SMS reliably.
//
// Code that causes a message writes it with Enqueue through the ent client
// of its own transaction, so the message exists exactly when the change
// that caused it was committed. A Worker (one per server instance, any
// number of instances) delivers what is due: it claims a message with an
// atomic conditional update before sending, so two workers never send the
// same message, retries failures with exponential backoff, and gives up
// after Config.MaxAttempts (status FAILED).
package outbox

import (
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"net/url"
	"strings"
	"time"

	"portier/ent"
	"portier/ent/outboxmessage"
	"portier/internal/mail"
	"portier/internal/viewer"
)

// Channels.
const (
	ChannelEmail = "EMAIL"
	ChannelSMS   = "SMS"
)

// ErrInvalidMessage is wrapped by the error Enqueue returns for a message it
// refuses to write.
var ErrInvalidMessage = errors.New("outbox: invalid message")

// Message is an e-mail or SMS to send.
type Message struct {
	Channel string // ChannelEmail or ChannelSMS
	To      string // e-mail address (RFC 5322, e.g. "a@b.de" or "Name <a@b.de>") or phone number
	Subject string // e-mail only
	Body    string // plain text
	// HTML is the text/html alternative of Body (e-mail only). Every
	// e-mail is sent as multipart/alternative; without HTML the transport
	// makes the HTML part from Body.
	HTML string
	// Language is the e-mail's Content-Language ("de", "en").
	Language string
	// Kind is the internal/mail message kind. It decides whether the mail
	// may carry List-Unsubscribe (mail.MayUnsubscribe).
	Kind string
	// Unsubscribe is the one-click unsubscribe URL (https) of a mail the
	// recipient may opt out of; Enqueue refuses it for any other kind.
	Unsubscribe string
}

// Email returns the outbox message that sends e to the address to.
func Email(to string, e mail.Email) Message {
	return Message{Channel: ChannelEmail, To: to, Subject: e.Subject, Body: e.Text,
		HTML: e.HTML, Language: e.Locale, Kind: e.Kind}
}

// Enqueue writes m as PENDING, due now, through c. Pass the client of the
// transaction that makes the change causing the message (tx.Client()), so
// the message is sent if and only if the transaction commits. Enqueue acts
// as the system internally (the outbox is system-only under privacy).
func Enqueue(ctx context.Context, c *ent.Client, m Message) error {
	if err := m.validate(); err != nil {
		return err
	}
	err := c.OutboxMessage.Create().
		SetChannel(outboxmessage.Channel(m.Channel)).
		SetRecipient(strings.TrimSpace(m.To)).
		SetSubject(m.Subject).
		SetBody(m.Body).
		SetHTMLBody(m.HTML).
		SetKind(m.Kind).
		SetLanguage(m.Language).
		SetUnsubscribeURL(m.Unsubscribe).
		SetNextAttemptAt(dbTime(time.Now())).
		Exec(viewer.SystemContext(ctx))
	if err != nil {
		return fmt.Errorf("outbox: enqueue %s: %w", m.Channel, err)
	}
	return nil
}

func (m Message) validate() error {
	to := strings.TrimSpace(m.To)
	switch {
	case m.Channel != ChannelEmail && m.Channel != ChannelSMS:
		return fmt.Errorf("%w: unknown channel %q", ErrInvalidMessage, m.Channel)
	case to == "":
		return fmt.Errorf("%w: no recipient", ErrInvalidMessage)
	case strings.TrimSpace(m.Body) == "":
		return fmt.Errorf("%w: empty body", ErrInvalidMessage)
	case hasControl(to):
		return fmt.Errorf("%w: control character in recipient", ErrInvalidMessage)
	case strings.ContainsAny(m.Subject, "\r\n"):
		return fmt.Errorf("%w: line break in subject", ErrInvalidMessage)
	case m.Channel == ChannelSMS && (m.HTML != "" || m.Unsubscribe != ""):
		return fmt.Errorf("%w: HTML or unsubscribe link on an SMS", ErrInvalidMessage)
	case hasControl(m.Language) || len(m.Language) > 35:
		return fmt.Errorf("%w: invalid language", ErrInvalidMessage)
	}
	if m.Unsubscribe != "" {
		if !mail.MayUnsubscribe(m.Kind) {
			return fmt.Errorf("%w: mail of kind %q may not carry List-Unsubscribe", ErrInvalidMessage, m.Kind)
		}
		u, err := url.Parse(m.Unsubscribe)
		if err != nil || u.Scheme != "https" || u.Host == "" || hasControl(m.Unsubscribe) || strings.ContainsAny(m.Unsubscribe, " <>") {
			return fmt.Errorf("%w: unsubscribe link must be an https URL", ErrInvalidMessage)
		}
	}
	if m.Channel == ChannelEmail {
		if _, err := netmail.ParseAddress(to); err != nil {
			return fmt.Errorf("%w: recipient is not an e-mail address", ErrInvalidMessage)
		}
	}
	return nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// dbTime is t as stored: UTC, microseconds (PostgreSQL's precision; also
// keeps SQLite's text timestamps comparable).
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
