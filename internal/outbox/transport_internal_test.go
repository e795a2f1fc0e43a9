package outbox

import (
	"bytes"
	"net/mail"
	"strings"
	"testing"
	"time"

	"portier/ent"
	pmail "portier/internal/mail"
)

func composed(t *testing.T, m *ent.OutboxMessage) mail.Header {
	t.Helper()
	tr, err := newSMTPTransport("smtp://127.0.0.1", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := tr.compose(m, time.Unix(1_700_000_000, 0).UTC())
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := msg.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	parsed, err := mail.ReadMessage(&b)
	if err != nil {
		t.Fatal(err)
	}
	return parsed.Header
}

// List-Unsubscribe appears only on a kind the table in internal/mail marks
// opt-out-able, and never on security mail, whatever the row holds.
func TestListUnsubscribeOnlyWhereItBelongs(t *testing.T) {
	const url = "https://portal.example/unsubscribe?t=abc"
	row := func(kind string) *ent.OutboxMessage {
		return &ent.OutboxMessage{Recipient: "a@example.de", Subject: "S", Body: "Text\n", Kind: kind, Language: "de", UnsubscribeURL: url}
	}
	for _, kind := range pmail.Kinds {
		if pmail.IsSMS(kind) {
			continue
		}
		h := composed(t, row(kind))
		if h.Get("List-Unsubscribe") != "" || h.Get("List-Unsubscribe-Post") != "" {
			t.Errorf("%s (%s): List-Unsubscribe %q", kind, pmail.ClassOf(kind), h.Get("List-Unsubscribe"))
		}
	}

	saved := mayUnsubscribe
	defer func() { mayUnsubscribe = saved }()
	mayUnsubscribe = func(kind string) bool { return kind == "newsletter" }
	h := composed(t, row("newsletter"))
	if h.Get("List-Unsubscribe") != "<"+url+">" || h.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Errorf("opt-out-able kind: List-Unsubscribe %q, List-Unsubscribe-Post %q", h.Get("List-Unsubscribe"), h.Get("List-Unsubscribe-Post"))
	}
	if h := composed(t, row(pmail.PasswordReset)); h.Get("List-Unsubscribe") != "" {
		t.Errorf("password reset: List-Unsubscribe %q", h.Get("List-Unsubscribe"))
	}
}

func TestParseSMTPURL(t *testing.T) {
	for raw, want := range map[string]SMTPSettings{
		// Across a network STARTTLS is required unless plain is asked for
		// (reset links and codes could be read by stripping it); to this
		// machine it is taken when offered.
		"smtp://mail.example":                        {Host: "mail.example", Port: 25, STARTTLSRequired: true},
		"smtp://mail.example?starttls=opportunistic": {Host: "mail.example", Port: 25},
		"smtp://127.0.0.1:2525":                      {Host: "127.0.0.1", Port: 2525},
		"smtp://localhost":                           {Host: "localhost", Port: 25},
		"smtp://mail.example:2525?starttls=required": {Host: "mail.example", Port: 2525, STARTTLSRequired: true},
		"smtps://mail.example":                       {Host: "mail.example", Port: 465, ImplicitTLS: true},
		"smtp://u%40x:p@mail.example:587":            {Host: "mail.example", Port: 587, STARTTLSRequired: true, Username: "u@x", password: "p"},
		"smtps://u:p@mail.example?auth=cram-md5":     {Host: "mail.example", Port: 465, ImplicitTLS: true, Username: "u", password: "p", Auth: "cram-md5"},
		"smtp://u:p@localhost:25?insecure_auth=true": {Host: "localhost", Port: 25, Username: "u", password: "p", InsecureAuth: true},
	} {
		got, err := ParseSMTPURL(raw)
		if err != nil || got != want {
			t.Errorf("%s: %+v, %v; want %+v", raw, got, err, want)
		}
		if strings.Contains(got.String(), ":p@") {
			t.Errorf("%s: String shows the password: %s", raw, got)
		}
	}
}
