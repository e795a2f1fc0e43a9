package graph

import (
	"context"
	"crypto/rand"
	"sync"

	"portier/ent"
	"portier/graph/model"
	"portier/internal/supportpin"
)

// supportPins returns the support PIN and desk operations bound to the
// request's transaction.
func (r *Resolver) supportPins(ctx context.Context) *supportpin.Service {
	return &supportpin.Service{Client: r.Client, Tx: func() (*ent.Client, error) { return Tx(ctx) },
		Key: r.PinKey, Limiter: r.Limiter, Now: r.Now}
}

var (
	processPinKey     []byte
	processPinKeyOnce sync.Once
)

// pinKeyOr returns key, or a random key made once per process when none is
// configured (tests; server.go always passes PORTIER_PIN_KEY or the key
// file's), so that every handler of one process shows and checks alike.
func pinKeyOr(key []byte) []byte {
	if len(key) > 0 {
		return key
	}
	processPinKeyOnce.Do(func() {
		processPinKey = make([]byte, 32)
		if _, err := rand.Read(processPinKey); err != nil {
			panic(err)
		}
	})
	return processPinKey
}

func shownPin(s supportpin.Shown, err error) (*model.SupportPin, error) {
	if err != nil {
		return nil, err
	}
	return &model.SupportPin{Pin: s.PIN, ValidUntil: s.ValidUntil}, nil
}

// supportCaller is the API shape of a caller (nil stays nil).
func supportCaller(c *supportpin.Caller) *model.SupportCaller {
	if c == nil {
		return nil
	}
	out := &model.SupportCaller{Contact: c.Contact, Roles: c.Roles, Authorizations: c.Authorizations}
	switch {
	case c.ScopedLogin != nil:
		out.LoginKind = model.SupportLoginKindScopedLogin
		sl := &model.SupportCallerScopedLogin{ID: c.ScopedLogin.ID, LoginName: c.ScopedLogin.LoginName}
		if res := c.ScopedLogin.Edges.Resource; res != nil {
			sl.ResourceKind, sl.ResourceName = res.Kind, res.Name
		}
		out.ScopedLogin = sl
	default:
		out.LoginKind = model.SupportLoginKindUser
		if u := c.User; u != nil {
			out.User = &model.SupportCallerUser{ID: u.ID, Name: u.Name}
		}
	}
	return out
}
