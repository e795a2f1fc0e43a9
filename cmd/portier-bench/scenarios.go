package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// runEnv is one running server with the tokens its scenario uses.
type runEnv struct {
	srv        *server
	client     *http.Client
	data       *seedData
	adminToken string
	mu         sync.Mutex
	tokens     map[string]string // username -> access token
	seq        atomic.Int64      // request sequence: every request of a run gets its own number
}

func newRunEnv(data *seedData) *runEnv {
	tr := &http.Transport{
		MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: 90 * time.Second,
		DisableCompression: true,
	}
	return &runEnv{data: data, tokens: map[string]string{},
		client: &http.Client{Transport: tr, Timeout: 120 * time.Second}}
}

// start starts a server for the following requests.
func (e *runEnv) start(ctx context.Context, bin *binary, dbURL, workDir string) error {
	e.stop()
	srv, err := startServer(ctx, bin, dbURL, workDir)
	if err != nil {
		return err
	}
	e.srv = srv
	return nil
}

// stop stops the server, if one runs.
func (e *runEnv) stop() {
	e.client.CloseIdleConnections()
	if e.srv != nil {
		e.srv.stop()
	}
}

// gqlBody is a GraphQL request body.
func gqlBody(query string, vars map[string]any) []byte {
	b, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		panic(err)
	}
	return b
}

// post sends one GraphQL request and reads the whole answer.
func (e *runEnv) post(ctx context.Context, body []byte, token, xff string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.url+"/graphql", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type envelope[T any] struct {
	Data   *T         `json:"data"`
	Errors []gqlError `json:"errors"`
}

// decode checks a GraphQL answer: no errors, data present.
func decode[T any](b []byte) (*T, error) {
	var env envelope[T]
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("the answer is not the expected JSON (%v): %s", err, clip(b, 200))
	}
	if len(env.Errors) > 0 {
		g := env.Errors[0]
		msg := fmt.Sprintf("GraphQL error %v", g.Extensions["code"])
		if r, ok := g.Extensions["reason"]; ok {
			msg += fmt.Sprintf(" (%v)", r)
		}
		msg += ": " + g.Message
		if len(g.Path) > 0 {
			msg += fmt.Sprintf(" at %v", g.Path)
		}
		if len(env.Errors) > 1 {
			msg += fmt.Sprintf(" (and %d more)", len(env.Errors)-1)
		}
		return nil, errors.New(msg)
	}
	if env.Data == nil {
		return nil, fmt.Errorf("the answer has no data: %s", clip(b, 200))
	}
	return env.Data, nil
}

func clip(b []byte, n int) string {
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// call is one request of a scenario and how to check its answer.
type call struct {
	body       []byte
	token, xff string
	// check returns the number of objects in a good answer.
	check func([]byte) (int, error)
	// quick, when set, is a cheaper check than check, used for all but
	// every fullCheckEvery-th request: decoding a page of 1,420 objects
	// costs the load generator about a third of the server's CPU for it,
	// taken from the same cores the server and PostgreSQL run on.
	quick func([]byte) (int, error)
	// seq numbers the request (from drive).
	seq int64
}

// fullCheckEvery is how often a call with a quick check is checked in full.
const fullCheckEvery = 16

// do sends a call and checks the answer; any status but 200, any GraphQL
// error and any answer not as expected is an error.
func (e *runEnv) do(ctx context.Context, c call) (int, error) {
	status, b, err := e.post(ctx, c.body, c.token, c.xff)
	if err != nil {
		return 0, err
	}
	if status != http.StatusOK {
		return 0, fmt.Errorf("HTTP %d: %s", status, clip(b, 200))
	}
	if c.quick != nil && c.seq%fullCheckEvery != 0 {
		return c.quick(b)
	}
	return c.check(b)
}

// setup runs a request outside any measurement and decodes the answer.
func setup[T any](ctx context.Context, e *runEnv, query string, vars map[string]any, token, xff string) (*T, error) {
	status, b, err := e.post(ctx, gqlBody(query, vars), token, xff)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d: %s", status, clip(b, 300))
	}
	return decode[T](b)
}

const loginDoc = `mutation Login($login: String!, $password: String!) {
  login(input: {login: $login, password: $password}) { accessToken expiresAt challenge { id } }
}`

type loginData struct {
	Login struct {
		AccessToken *string `json:"accessToken"`
		Challenge   *struct {
			ID string `json:"id"`
		} `json:"challenge"`
	} `json:"login"`
}

func checkLogin(b []byte) (int, error) {
	d, err := decode[loginData](b)
	if err != nil {
		return 0, err
	}
	if d.Login.Challenge != nil || d.Login.AccessToken == nil || *d.Login.AccessToken == "" {
		return 0, errors.New("login answered without an access token")
	}
	return 1, nil
}

// login logs in and returns the access token. The client address is the
// user's own (see userAddr), so that setting up many workers never meets
// the per-address login limit.
func (e *runEnv) login(ctx context.Context, login string) (string, error) {
	d, err := setup[loginData](ctx, e, loginDoc, map[string]any{"login": login, "password": benchPassword}, "", userAddr(login))
	if err != nil {
		return "", fmt.Errorf("login as %s: %w", login, err)
	}
	if d.Login.AccessToken == nil || *d.Login.AccessToken == "" {
		return "", fmt.Errorf("login as %s: no access token (a second factor?)", login)
	}
	return *d.Login.AccessToken, nil
}

// loginUsers logs in the given users, a few at a time, keeping their tokens.
func (e *runEnv) loginUsers(ctx context.Context, users []string) error {
	sem := make(chan struct{}, 4)
	errc := make(chan error, len(users))
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			tok, err := e.login(ctx, u)
			if err != nil {
				errc <- err
				return
			}
			e.mu.Lock()
			e.tokens[u] = tok
			e.mu.Unlock()
		}()
	}
	wg.Wait()
	close(errc)
	return <-errc // nil when none failed
}

func (e *runEnv) token(user string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tokens[user]
}

// verify checks through GraphQL, as the staff admin, that the seed is there.
func (e *runEnv) verify(ctx context.Context) error {
	tok, err := e.login(ctx, benchAdminMail)
	if err != nil {
		return err
	}
	e.adminToken = tok
	type totals struct {
		CustomerAccounts struct {
			TotalCount int `json:"totalCount"`
		} `json:"customerAccounts"`
		UserAccounts struct {
			TotalCount int `json:"totalCount"`
		} `json:"userAccounts"`
	}
	d, err := setup[totals](ctx, e, `{ customerAccounts(first: 1) { totalCount } userAccounts(first: 1) { totalCount } }`, nil, tok, "")
	if err != nil {
		return fmt.Errorf("counting the seed through GraphQL: %w", err)
	}
	wantUsers := seedAccounts*contactsPerAccount + 1 // and the staff admin
	if d.CustomerAccounts.TotalCount != seedAccounts || d.UserAccounts.TotalCount != wantUsers {
		return fmt.Errorf("the server sees %d customer accounts and %d users, want %d and %d",
			d.CustomerAccounts.TotalCount, d.UserAccounts.TotalCount, seedAccounts, wantUsers)
	}
	return nil
}

// scenario is one GraphQL workload.
type scenario struct {
	name string
	// page is the number of customer accounts of a nested page; 0 for the
	// others. Nested pages report CPU per returned object.
	page int
	// prepare logs in what the scenario needs for up to maxConc workers.
	prepare func(ctx context.Context, e *runEnv, maxConc int) error
	// next is the request of worker w, seq its run-wide sequence number.
	next func(e *runEnv, w int, seq int64) call
}

// allScenarios in the order they run.
var allScenarios = []*scenario{
	nestedScenario(5), nestedScenario(20), nestedScenario(50),
	meScenario(), canScenario(), updateContactScenario(), loginScenario(),
}

func scenarioNames() []string {
	var n []string
	for _, s := range allScenarios {
		n = append(n, s.name)
	}
	return n
}

const nestedDoc = `query Nested($n: Int!) {
  customerAccounts(first: $n) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id number name status kind createdAt
      contacts(first: 10) {
        totalCount
        edges { node {
          id name email createdAt
          roleAssignments { id role validFrom validUntil endedAt }
          user { id username name }
        } }
      }
    } }
  }
}`

type nestedData struct {
	CustomerAccounts struct {
		Edges []struct {
			Node struct {
				ID       string `json:"id"`
				Contacts struct {
					Edges []struct {
						Node struct {
							ID              string `json:"id"`
							RoleAssignments []struct {
								Role string `json:"role"`
							} `json:"roleAssignments"`
							User *struct {
								ID string `json:"id"`
							} `json:"user"`
						} `json:"node"`
					} `json:"edges"`
				} `json:"contacts"`
			} `json:"node"`
		} `json:"edges"`
	} `json:"customerAccounts"`
}

// nestedObjects is what a page of n accounts returns: the accounts, their
// contacts, the contacts' role assignments and users.
func nestedObjects(n int) int {
	return n * (1 + contactsPerAccount*(1+rolesPerContact+1))
}

// nestedScenario reads, as the staff admin, a page of n customer accounts,
// 10 contacts of each, and each contact's roles and user.
func nestedScenario(n int) *scenario {
	body := gqlBody(nestedDoc, map[string]any{"n": n})
	check := func(b []byte) (int, error) {
		d, err := decode[nestedData](b)
		if err != nil {
			return 0, err
		}
		accts := d.CustomerAccounts.Edges
		if len(accts) != n {
			return 0, fmt.Errorf("%d customer accounts, want %d", len(accts), n)
		}
		objects := 0
		for _, a := range accts {
			objects++
			cs := a.Node.Contacts.Edges
			if len(cs) != contactsPerAccount {
				return 0, fmt.Errorf("account %s: %d contacts, want %d", a.Node.ID, len(cs), contactsPerAccount)
			}
			for _, c := range cs {
				objects++
				if len(c.Node.RoleAssignments) != rolesPerContact {
					return 0, fmt.Errorf("contact %s: %d role assignments, want %d", c.Node.ID, len(c.Node.RoleAssignments), rolesPerContact)
				}
				objects += len(c.Node.RoleAssignments)
				if c.Node.User == nil {
					return 0, fmt.Errorf("contact %s: no user", c.Node.ID)
				}
				objects++
			}
		}
		return objects, nil
	}
	// quick counts what the full check counts, without decoding: the
	// answer is data without errors, with the expected number of accounts,
	// contacts, role assignments and users.
	prefix := []byte(`{"data":{"customerAccounts":`)
	quick := func(b []byte) (int, error) {
		if !bytes.HasPrefix(b, prefix) || bytes.Contains(b, []byte(`"errors":`)) {
			return check(b) // the full check says what is wrong
		}
		for _, want := range []struct {
			key string
			n   int
		}{
			{`"number":`, n},
			{`"email":`, n * contactsPerAccount},
			{`"role":`, n * contactsPerAccount * rolesPerContact},
			{`"username":`, n * contactsPerAccount},
		} {
			if got := bytes.Count(b, []byte(want.key)); got != want.n {
				return check(b)
			}
		}
		return nestedObjects(n), nil
	}
	return &scenario{
		name: fmt.Sprintf("nested%d", n), page: n,
		prepare: func(context.Context, *runEnv, int) error { return nil },
		next: func(e *runEnv, _ int, seq int64) call {
			return call{body: body, token: e.adminToken, check: check, quick: quick, seq: seq}
		},
	}
}

// workerAccount is the seeded account worker w acts on.
func workerAccount(w int) int { return w % seedAccounts }

func workerUsers(maxConc int, contact int) []string {
	var us []string
	for w := 0; w < maxConc; w++ {
		us = append(us, username(workerAccount(w), contact))
	}
	return us
}

const meDoc = `{ me { kind staffRole user { id username email }
  memberships { customerAccount { id number name } contact { id name } permissions } } }`

type meData struct {
	Me struct {
		Kind        string `json:"kind"`
		Memberships []struct {
			CustomerAccount struct {
				ID string `json:"id"`
			} `json:"customerAccount"`
			Permissions []string `json:"permissions"`
		} `json:"memberships"`
	} `json:"me"`
}

// meScenario: each worker, as its own seeded user (portal access, no admin
// role), asks for itself and its memberships.
func meScenario() *scenario {
	body := gqlBody(meDoc, nil)
	return &scenario{
		name: "me",
		prepare: func(ctx context.Context, e *runEnv, maxConc int) error {
			return e.loginUsers(ctx, workerUsers(maxConc, plainContact))
		},
		next: func(e *runEnv, w int, _ int64) call {
			want := string(e.data.accounts[workerAccount(w)].id)
			return call{body: body, token: e.token(username(workerAccount(w), plainContact)), check: func(b []byte) (int, error) {
				d, err := decode[meData](b)
				if err != nil {
					return 0, err
				}
				ms := d.Me.Memberships
				if d.Me.Kind != "USER" || len(ms) != 1 || ms[0].CustomerAccount.ID != want || len(ms[0].Permissions) == 0 {
					return 0, fmt.Errorf("me: unexpected answer (kind %s, %d memberships)", d.Me.Kind, len(ms))
				}
				return 1 + len(ms), nil
			}}
		},
	}
}

const canDoc = `query Can($a: ID!) { can(customerAccountID: $a, permission: CONTACTS_READ) }`

// canScenario: each worker, as the customer admin of its own account, asks
// whether it may read the account's contacts (true).
func canScenario() *scenario {
	check := func(b []byte) (int, error) {
		d, err := decode[struct {
			Can bool `json:"can"`
		}](b)
		if err != nil {
			return 0, err
		}
		if !d.Can {
			return 0, errors.New("can(CONTACTS_READ) is false for a customer admin")
		}
		return 1, nil
	}
	return &scenario{
		name: "can",
		prepare: func(ctx context.Context, e *runEnv, maxConc int) error {
			return e.loginUsers(ctx, workerUsers(maxConc, 0))
		},
		next: func(e *runEnv, w int, _ int64) call {
			a := workerAccount(w)
			return call{body: gqlBody(canDoc, map[string]any{"a": string(e.data.accounts[a].id)}),
				token: e.token(username(a, 0)), check: check}
		},
	}
}

const updateContactDoc = `mutation Update($id: ID!, $name: String!) {
  updateContact(input: {id: $id, name: $name}) {
    id name updatedAt
    roleAssignments { id role validFrom validUntil endedAt }
  }
}`

type updateData struct {
	UpdateContact struct {
		ID              string `json:"id"`
		Name            string `json:"name"`
		RoleAssignments []struct {
			Role string `json:"role"`
		} `json:"roleAssignments"`
	} `json:"updateContact"`
}

// updateContactScenario: each worker, as the customer admin of its own
// account (so workers never wait on each other's rows), renames one of the
// account's other contacts in turn — a new name every time, so every call
// writes — and reads back the contact's role assignments.
func updateContactScenario() *scenario {
	return &scenario{
		name: "updateContact",
		prepare: func(ctx context.Context, e *runEnv, maxConc int) error {
			return e.loginUsers(ctx, workerUsers(maxConc, 0))
		},
		next: func(e *runEnv, w int, seq int64) call {
			a := workerAccount(w)
			k := 1 + int(seq%(contactsPerAccount-1))
			id := string(e.data.accounts[a].contacts[k].id)
			name := fmt.Sprintf("Person %05d-%02d rev %d", a+1, k, seq)
			return call{
				body:  gqlBody(updateContactDoc, map[string]any{"id": id, "name": name}),
				token: e.token(username(a, 0)),
				check: func(b []byte) (int, error) {
					d, err := decode[updateData](b)
					if err != nil {
						return 0, err
					}
					u := d.UpdateContact
					if u.ID != id || u.Name != name || len(u.RoleAssignments) != rolesPerContact {
						return 0, fmt.Errorf("updateContact: unexpected answer (name %q, %d role assignments)", u.Name, len(u.RoleAssignments))
					}
					return 1 + len(u.RoleAssignments), nil
				},
			}
		},
	}
}

// userAddr is the client address a seeded user logs in from (sent as
// X-Forwarded-For; the server trusts the benchmark's loopback peer as a
// proxy, PORTIER_TRUSTED_PROXIES): 10.x.y.z from the user's number, its own
// for every user. The staff admin comes from 10.255.255.254.
func userAddr(login string) string {
	var a, k int
	if _, err := fmt.Sscanf(login, "u%05d-%02d", &a, &k); err != nil {
		return "10.255.255.254"
	}
	u := (a-1)*contactsPerAccount + k
	return fmt.Sprintf("10.%d.%d.%d", (u>>16)&255, (u>>8)&255, u&255)
}

// loginScenario logs in as the seeded users round-robin. Each user comes
// from its own client address (userAddr): the per-address limit (300 logins
// in 15 minutes) would otherwise stop the benchmark after 300 logins; the
// per-user limits are emptied by each successful login.
func loginScenario() *scenario {
	n := seedAccounts * contactsPerAccount
	return &scenario{
		name:    "login",
		prepare: func(context.Context, *runEnv, int) error { return nil },
		next: func(e *runEnv, _ int, seq int64) call {
			u := int(seq % int64(n))
			a, k := u/contactsPerAccount, u%contactsPerAccount
			return call{
				body:  gqlBody(loginDoc, map[string]any{"login": username(a, k), "password": benchPassword}),
				xff:   userAddr(username(a, k)),
				check: checkLogin,
			}
		},
	}
}
