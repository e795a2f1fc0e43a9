package outbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"portier/ent"
)

// DefaultFrom is the sender when Config.From is empty.
const DefaultFrom = "Portier <no-reply@portier.local>"

const httpTimeout = 30 * time.Second

type transports struct {
	email, sms       transport
	emailErr, smsErr error
}

// newTransports builds the configured transports. Errors never quote the
// URLs: they may hold passwords or tokens.
func newTransports(cfg Config) (transports, error) {
	var ts transports
	if cfg.SMTPURL != "" {
		t, err := newSMTPTransport(cfg.SMTPURL, cfg.From, cfg.RootCAs)
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
