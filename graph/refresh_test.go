package graph_test

import (
	"sync"
	"testing"
	"time"

	"portier/internal/identity"
)

// Issue 6 item 8: two tabs refreshing the same token at once both get the
// same new refresh token (and a working access token), and the session
// lives on; 10 trials of 2 truly concurrent requests through the handler.
func TestConcurrentRefreshKeepsTheSession(t *testing.T) {
	e := newEnv(t)
	for trial := range 10 {
		r0 := e.loginTokens("admin@example.com", adminPassword)["refreshToken"].(string)
		var wg sync.WaitGroup
		start := make(chan struct{})
		res := make([]response, 2)
		for i := range res {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req := e.request("", refreshDoc, map[string]any{"r": r0})
				<-start
				res[i] = e.send(req)
			}()
		}
		close(start)
		wg.Wait()
		var refresh string
		for i, r := range res {
			if len(r.Errors) > 0 {
				t.Fatalf("trial %d, request %d: %s", trial, i, r.Raw)
			}
			rt := secrets.add(dig(r.Data, "refreshSession", "refreshToken").(string))
			at := secrets.add(dig(r.Data, "refreshSession", "accessToken").(string))
			if refresh != "" && rt != refresh {
				t.Fatalf("trial %d: two different refresh tokens", trial)
			}
			refresh = rt
			e.ok(at, meDoc, nil)
		}
		if refresh == r0 {
			t.Fatalf("trial %d: not rotated", trial)
		}
		// The session goes on: the one new token rotates normally.
		d := e.ok("", refreshDoc, map[string]any{"r": refresh})
		secrets.add(dig(d, "refreshSession", "refreshToken").(string))
		e.ok(secrets.add(dig(d, "refreshSession", "accessToken").(string)), meDoc, nil)
	}
	d := e.ok(e.admin, `{ auditEvents(first: 10, where: {action: "session.revoked"}) { totalCount } }`, nil)
	if n := dig(d, "auditEvents", "totalCount").(float64); n != 0 {
		t.Fatalf("%v sessions revoked for reuse", n)
	}
}

// The grace window is short and only for the token rotated away last:
// within it the old token gets the same successor again; after it, or for
// any older token, reuse revokes the session as before.
func TestRefreshGraceWindow(t *testing.T) {
	e := newEnv(t)
	r0 := e.loginTokens("admin@example.com", adminPassword)["refreshToken"].(string)
	refresh := func(tok string) (string, string) {
		d := e.ok("", refreshDoc, map[string]any{"r": tok})
		return secrets.add(dig(d, "refreshSession", "refreshToken").(string)),
			secrets.add(dig(d, "refreshSession", "accessToken").(string))
	}
	r1, _ := refresh(r0)
	e.clock.Advance(identity.RefreshGrace - time.Second)
	again, a := refresh(r0)
	if again != r1 {
		t.Fatal("within the grace window the old token must get the same successor")
	}
	e.ok(a, meDoc, nil)

	// After the window the old token is reuse: the session ends.
	e.clock.Advance(2 * time.Second)
	e.wantCode("", refreshDoc, map[string]any{"r": r0}, "UNAUTHENTICATED")
	e.wantCode("", refreshDoc, map[string]any{"r": r1}, "UNAUTHENTICATED")
	e.wantCode(a, meDoc, nil, "UNAUTHENTICATED")

	// An older token than the last rotated one is reuse even at once.
	s0 := e.loginTokens("admin@example.com", adminPassword)["refreshToken"].(string)
	s1, _ := refresh(s0)
	s2, a2 := refresh(s1)
	e.wantCode("", refreshDoc, map[string]any{"r": s0}, "UNAUTHENTICATED")
	e.wantCode("", refreshDoc, map[string]any{"r": s2}, "UNAUTHENTICATED")
	e.wantCode(a2, meDoc, nil, "UNAUTHENTICATED")
	d := e.ok(e.admin, `{ auditEvents(first: 10, where: {action: "session.revoked"}) { totalCount } }`, nil)
	if n := dig(d, "auditEvents", "totalCount").(float64); n != 2 {
		t.Fatalf("%v reuse revocations audited, want 2", n)
	}
}
