package graph_test

import (
	"os"
	"testing"
)

// Defects found in review that are not fixed on this branch. They fail
// today; run them with PORTIER_REVIEW_OPEN=1.
func reviewOpen(t *testing.T) {
	t.Helper()
	if os.Getenv("PORTIER_REVIEW_OPEN") != "1" {
		t.Skip("open review defect; run with PORTIER_REVIEW_OPEN=1")
	}
}

// An agency contact acts on a client only while the delegation lasts (issue
// 7 §6). With a delegation holding ACCOUNT_READ, RESOURCES_READ and
// CONTACTS_MANAGE (what PORTAL_ACCESS gives, so the grant rule allows it),
// he creates a contact for his own address on the client with
// PORTAL_ACCESS, links it himself (linkContacts) and keeps portal access to
// the client after the client ended the delegation.
// Fixed: what a person does on a client through an agency delegation lasts
// only as long as that delegation. Every role assignment, group membership,
// support authorization and invitation made by a principal acting through
// one records it (granted_via_delegation_id, authz.DelegationVia), and the
// evaluator treats such a grant as over once the delegation is over.
func TestReviewAgencyKeepsAccessAfterDelegationEnds(t *testing.T) {
	e := newEnv(t)
	client := e.createAccount("96051")
	agency := e.createAccount("96052")
	clientAdmin, _ := e.customerUser(client, "admin@c5.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	agent, _ := e.customerUser(agency, "agent@ag5.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	e.ok(e.admin, setAgencyDoc, map[string]any{"a": agency, "on": true})
	d := e.ok(clientAdmin, delegateDoc, map[string]any{"c": client, "n": "96052",
		"p": []string{"ACCOUNT_READ", "CONTACTS_READ", "CONTACTS_MANAGE", "RESOURCES_READ"}})
	delegation := dig(d, "delegateToAgency", "id").(string)
	e.do(agent, createContactDoc, map[string]any{"a": client, "name": "Agent", "email": "agent@ag5.example",
		"roles": []string{"PORTAL_ACCESS"}})
	e.do(agent, `mutation { linkContacts }`, nil)
	if ps := e.myPerms(agent, client); len(ps) == 0 {
		t.Fatal("the agency contact holds nothing on the client while the delegation lasts")
	}
	e.ok(clientAdmin, revokeDelegationDoc, map[string]any{"id": delegation})
	if ps := e.myPerms(agent, client); len(ps) != 0 {
		t.Fatalf("agency contact keeps %v on the client after the delegation ended", ps)
	}
}
