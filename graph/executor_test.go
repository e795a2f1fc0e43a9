package graph_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestListElementsKeepTheirPath: the elements of a list are marshalled one
// after the other under one shared field context (graph/generated/
// sequential.go); an error in each element must carry that element's own
// index, not the last one's.
func TestListElementsKeepTheirPath(t *testing.T) {
	e := newEnv(t)
	for _, n := range []string{"70001", "70002", "70003"} {
		e.createAccount(n)
	}
	r := e.do(e.admin, `{ customerAccounts(first: 3) { edges { node { number
		c: contacts(first: 2, where: {nameContains: "x\u0007"}) { totalCount } } } } }`, nil)
	if len(r.Errors) != 3 {
		t.Fatalf("want an error per account, got %s", r.Raw)
	}
	for i, er := range r.Errors {
		if got, want := fmt.Sprint(er.Path), fmt.Sprintf("[customerAccounts edges %d node c]", i); got != want {
			t.Errorf("error %d has path %s, want %s", i, got, want)
		}
	}
	if edges := dig(r.Data, "customerAccounts", "edges").([]any); len(edges) != 3 || dig(edges[2], "node") != nil {
		t.Errorf("each failed account must be null: %s", r.Raw)
	}
}

// TestObjectFieldsAreWrittenOnceInOrder: an object's fields are written by
// Portier's own field set (graph/generated/sequential.go), in the order the
// document first names them, each response key once however often it is
// selected (directly, through fragments, through the Node interface).
func TestObjectFieldsAreWrittenOnceInOrder(t *testing.T) {
	e := newEnv(t)
	id := e.createAccount("70011")
	r := e.do(e.admin, `query { customerAccounts(first: 1) { edges { node { number ...F n2: number
		... on Node { id } number ...F __typename } } } }
		fragment F on CustomerAccount { number name id }`, nil)
	if len(r.Errors) != 0 {
		t.Fatalf("errors: %s", r.Raw)
	}
	want := fmt.Sprintf(`{"node":{"number":"70011","name":%q,"id":%q,"n2":"70011","__typename":"CustomerAccount"}}`,
		dig(e.ok(e.admin, `query($id: ID!) { node(id: $id) { ... on CustomerAccount { name } } }`, map[string]any{"id": id}), "node", "name"), id)
	if !strings.Contains(r.Raw, `"edges":[`+want+`]`) {
		t.Errorf("response %s\nwant edges [%s]", r.Raw, want)
	}
}

// TestSameSelectionOnDifferentTypes: the fields an object selects are
// cached per operation by selection set and object type (graph/generated/
// sequential.go, collectFields); one selection set over two types, and the
// same type under @skip and @include, must each get their own fields.
func TestSameSelectionOnDifferentTypes(t *testing.T) {
	e := newEnv(t)
	acct := e.createAccount("70021")
	contact := e.createContact(e.admin, acct, "Ada Lovelace", "ada@70021.example", "PORTAL_ACCESS")
	r := e.do(e.admin, `query($ids: [ID!]!, $yes: Boolean!) {
		nodes(ids: $ids) { id ... on CustomerAccount { number } ... on Contact { name } }
		again: nodes(ids: $ids) { ... on Contact { name @skip(if: $yes) email @include(if: $yes) } }
	}`, map[string]any{"ids": []any{acct, contact, acct}, "yes": true})
	want := fmt.Sprintf(`{"nodes":[{"id":%[1]q,"number":"70021"},{"id":%[2]q,"name":"Ada Lovelace"},{"id":%[1]q,"number":"70021"}],"again":[{},{"email":"ada@70021.example"},{}]}`, acct, contact)
	if len(r.Errors) != 0 || !strings.Contains(r.Raw, `"data":`+want) {
		t.Errorf("response %s\nwant data %s", r.Raw, want)
	}
}
