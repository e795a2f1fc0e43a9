package graph_test

import "time"

// matrixTable is the reviewed table of who may call what (issue 7 §8; the model is docs/authorization.md). Columns are the principals of matrixPrincipals:
//
//	anon        no credentials
//	portal      PORTAL_ACCESS only, on account A
//	tech        PORTAL_ACCESS + TECHNICAL_CONTACT on A
//	admin       PORTAL_ACCESS + CUSTOMER_ADMIN on A
//	noportal    CUSTOMER_ADMIN without PORTAL_ACCESS on A (the gate)
//	expired     PORTAL_ACCESS + CUSTOMER_ADMIN on A, ended yesterday
//	group       PORTAL_ACCESS + a rights group granting contacts:read/manage on A
//	deact       PORTAL_ACCESS + CUSTOMER_ADMIN on D, a DEACTIVATED account
//	support     staff SUPPORT; own objects on A (no consent)
//	supportC    staff SUPPORT; own objects on AC (consent given)
//	sales       staff SALES assigned to A and AC; own objects on A
//	salesC      the same SALES user kind; own objects on AC (consent)
//	salesX      staff SALES assigned to nothing
//	staffAdmin  staff ADMIN
//	agency      CUSTOMER_ADMIN of agency G, to which A delegates account:read, contacts:read/manage; own objects on A
//	keyRead     an API key of "admin" on A, narrowed to account:read + contacts:read
//	keyFull     an API key of "admin" on A with every customer-admin permission a key may hold
//	scoped      a scoped login of a MAILBOX on A (issue 9): sees that mailbox and its own login only
//
// "own" objects live in the principal's account (A, AC or D), "foreign" ones
// in account B, to which no customer principal belongs. Outcomes: an error
// code, or OK (no error), SEES / HIDDEN (no error; the object is / is not in
// the answer), NULL (no error, null). NOT_FOUND where the caller may not know
// the object exists, FORBIDDEN where it may see it but not do this.
var matrixTable = []matrixRow{
	// ------------------------------------------------------------ reads
	{field: "Query.node", doc: `query($c: ID!) { node(id: $c) { id } }`, vars: map[string]string{"c": "$contact"},
		own:     "anon=UNAUTHENTICATED admin,group,support,supportC,sales,salesC,staffAdmin,keyRead,keyFull,agency=SEES *=NOT_FOUND",
		foreign: "anon=UNAUTHENTICATED support,supportC,staffAdmin=SEES *=NOT_FOUND"},
	{field: "Query.nodes", doc: `query($c: ID!) { nodes(ids: [$c]) { id } }`, vars: map[string]string{"c": "$contact"},
		own:     "anon=UNAUTHENTICATED admin,group,support,supportC,sales,salesC,staffAdmin,keyRead,keyFull,agency=SEES *=NOT_FOUND",
		foreign: "anon=UNAUTHENTICATED support,supportC,staffAdmin=SEES *=NOT_FOUND"},
	{field: "Query.customerAccount", doc: `query($n: String!) { customerAccount(number: $n) { id } }`, vars: map[string]string{"n": "$number"},
		own:     "scoped=FORBIDDEN anon=UNAUTHENTICATED noportal,expired,deact,salesX=NULL *=SEES",
		foreign: "scoped=FORBIDDEN anon=UNAUTHENTICATED support,supportC,staffAdmin=SEES *=NULL"},
	{field: "Query.customerAccounts", doc: `{ customerAccounts(first: 100) { edges { node { id } } } }`,
		own:     "scoped=FORBIDDEN anon=UNAUTHENTICATED noportal,expired,deact,salesX=HIDDEN *=SEES",
		foreign: "scoped=FORBIDDEN anon=UNAUTHENTICATED support,supportC,staffAdmin=SEES *=HIDDEN"},
	{field: "Query.userAccounts", doc: `{ userAccounts(first: 5) { totalCount } }`,
		own: "anon=UNAUTHENTICATED support,supportC,staffAdmin=OK *=FORBIDDEN"},
	{field: "Query.auditEvents", doc: `{ auditEvents(first: 5) { totalCount } }`,
		own: "scoped=FORBIDDEN anon=UNAUTHENTICATED *=OK"},
	{field: "Query.me", doc: `{ me { kind } }`, own: "anon=UNAUTHENTICATED *=OK"},
	{field: "Query.mySessions", doc: `{ mySessions { id } }`, own: "scoped=FORBIDDEN anon=UNAUTHENTICATED keyRead,keyFull=FORBIDDEN *=OK"},

	// ------------------------------------------------------------ customer accounts, contacts, roles
	{field: "Mutation.createCustomerAccount", doc: `mutation($n: String!) { createCustomerAccount(input: {number: $n, name: "Matrix new"}) { id } }`,
		vars: map[string]string{"n": "$unique"},
		own:  "anon=UNAUTHENTICATED staffAdmin=OK *=FORBIDDEN"},
	// Without roles a contact starts with TECHNICAL_CONTACT, which only who
	// may grant it gets (contacts_test.go); roles: [] asks who may create
	// a contact at all.
	{field: "Mutation.createContact", doc: `mutation($a: ID!) { createContact(input: {customerAccountID: $a, name: "Matrix new", roles: []}) { id } }`,
		vars:    map[string]string{"a": "$account"},
		own:     "anon=UNAUTHENTICATED admin,group,salesC,staffAdmin,keyFull,agency=OK portal,tech,support,supportC,sales,keyRead=FORBIDDEN *=NOT_FOUND",
		foreign: "anon=UNAUTHENTICATED staffAdmin=OK support,supportC=FORBIDDEN *=NOT_FOUND"},
	{field: "Mutation.assignRole", doc: `mutation($c: ID!) { assignRole(input: {contactID: $c, role: CUSTOMER_ADMIN}) { id } }`,
		vars: map[string]string{"c": "$contact"},
		// Only who holds every permission of CUSTOMER_ADMIN may grant it:
		// not a group member with contacts:manage, an agency, or a key
		// (a key never holds apikeys:manage).
		own:     "anon=UNAUTHENTICATED admin,salesC,staffAdmin=OK portal,tech,support,supportC,sales,keyRead,group,agency,keyFull=FORBIDDEN *=NOT_FOUND",
		foreign: "anon=UNAUTHENTICATED staffAdmin=OK support,supportC=FORBIDDEN *=NOT_FOUND"},
	{field: "Mutation.removeRole", doc: `mutation($c: ID!) { removeRole(input: {contactID: $c, role: TECHNICAL_CONTACT}) { id } }`,
		vars:    map[string]string{"c": "$contact"},
		own:     "anon=UNAUTHENTICATED admin,group,salesC,staffAdmin,keyFull,agency=OK portal,tech,support,supportC,sales,keyRead=FORBIDDEN *=NOT_FOUND",
		foreign: "anon=UNAUTHENTICATED staffAdmin=OK support,supportC=FORBIDDEN *=NOT_FOUND"},

	// Contacts (issue 8 item 1): CONTACTS_MANAGE, like the roles above.
	// enableLogin also needs the right to grant PORTAL_ACCESS (account:read
	// and resources:read), which the agency's delegation lacks. It runs
	// before deleteContact on the same disposable contact.
	{field: "Mutation.updateContact", doc: `mutation($c: ID!) { updateContact(input: {id: $c, name: "Matrix renamed"}) { id } }`,
		vars:    map[string]string{"c": "$contact"},
		own:     "anon=UNAUTHENTICATED admin,group,salesC,staffAdmin,keyFull,agency=OK portal,tech,support,supportC,sales,keyRead=FORBIDDEN *=NOT_FOUND",
		foreign: "anon=UNAUTHENTICATED staffAdmin=OK support,supportC=FORBIDDEN *=NOT_FOUND"},
	{field: "Mutation.enableLogin", doc: `mutation($c: ID!) { enableLogin(contactID: $c) { id } }`,
		vars:    map[string]string{"c": "$disposable"},
		own:     "anon=UNAUTHENTICATED admin,group,salesC,staffAdmin,keyFull=OK agency,portal,tech,support,supportC,sales,keyRead=FORBIDDEN *=NOT_FOUND",
		foreign: "anon=UNAUTHENTICATED staffAdmin=OK support,supportC=FORBIDDEN *=NOT_FOUND"},
	{field: "Mutation.deleteContact", doc: `mutation($c: ID!) { deleteContact(id: $c) { id deletedAt } }`,
		vars:    map[string]string{"c": "$disposable"},
		own:     "anon=UNAUTHENTICATED admin,group,salesC,staffAdmin,keyFull,agency=OK portal,tech,support,supportC,sales,keyRead=FORBIDDEN *=NOT_FOUND",
		foreign: "anon=UNAUTHENTICATED staffAdmin=OK support,supportC=FORBIDDEN *=NOT_FOUND"},
	// A made-up token: every caller, logged in or not, is told it is
	// invalid (public, like signUp).
	{field: "Mutation.activateLogin", doc: `mutation { activateLogin(input: {token: "matrix-not-a-token", username: "matrix-new", name: "M", password: "Wanderlust-Fjord-Kayak"}) { accessToken } }`,
		own: "*=BAD_USER_INPUT"},

	// ------------------------------------------------------------ invitations
	// invitations:manage is a customer admin's (and a full key's); a group
	// member with contacts:manage or an agency holds it not. Staff SALES
	// act on an assigned, consenting account; ADMIN everywhere.
	{field: "Query.invitations", doc: `query($a: ID!) { invitations(customerAccountID: $a) { id state } }`,
		vars:    map[string]string{"a": "$account"},
		own:     "anon=UNAUTHENTICATED admin,salesC,staffAdmin,keyFull=OK portal,tech,group,agency,support,supportC,sales,keyRead=FORBIDDEN *=NOT_FOUND",
		foreign: "anon=UNAUTHENTICATED staffAdmin=OK support,supportC=FORBIDDEN *=NOT_FOUND"},
	{field: "Mutation.inviteContact", doc: `mutation($a: ID!, $e: String!) { inviteContact(input: {customerAccountID: $a, email: $e, roles: [TECHNICAL_CONTACT]}) { id } }`,
		vars:    map[string]string{"a": "$account", "e": "$email"},
		own:     "anon=UNAUTHENTICATED admin,salesC,staffAdmin,keyFull=OK portal,tech,group,agency,support,supportC,sales,keyRead=FORBIDDEN *=NOT_FOUND",
		foreign: "anon=UNAUTHENTICATED staffAdmin=OK support,supportC=FORBIDDEN *=NOT_FOUND"},
	// A made-up token: every logged-in user is told it is invalid; a key
	// never accepts (it would change its own user's rights).
	{field: "Mutation.acceptInvitation", doc: `mutation { acceptInvitation(token: "matrix-not-a-token") { id } }`,
		own: "scoped=FORBIDDEN anon=UNAUTHENTICATED keyRead,keyFull=FORBIDDEN *=BAD_USER_INPUT"},
	{field: "Mutation.resendInvitation", doc: `mutation($i: ID!) { resendInvitation(id: $i) { id } }`,
		vars:    map[string]string{"i": "$invitation"},
		own:     "anon=UNAUTHENTICATED admin,salesC,staffAdmin,keyFull=OK portal,tech,group,agency,support,supportC,sales,keyRead=FORBIDDEN *=NOT_FOUND",
		foreign: "anon=UNAUTHENTICATED staffAdmin=OK support,supportC=FORBIDDEN *=NOT_FOUND"},
	{field: "Mutation.revokeInvitation", doc: `mutation($i: ID!) { revokeInvitation(id: $i) { id } }`,
		vars:    map[string]string{"i": "$invitation"},
		own:     "anon=UNAUTHENTICATED admin,salesC,staffAdmin,keyFull=OK portal,tech,group,agency,support,supportC,sales,keyRead=FORBIDDEN *=NOT_FOUND",
		foreign: "anon=UNAUTHENTICATED staffAdmin=OK support,supportC=FORBIDDEN *=NOT_FOUND"},
	// ------------------------------------------------------------ organisation domains, account kinds (issue 8 item 1)
	// Proposing needs ACCOUNT_UPDATE (customer admins, full keys, SALES on an
	// assigned consenting account, ADMIN); confirming and converting are the
	// provider's (SUPPORT, ADMIN); removing needs ACCOUNT_UPDATE or SUPPORT.
	// $domain is a fresh domain; $proposedDomain, $orgDomain and $personal
	// are made for each principal and side alone.
	{field: "Mutation.proposeOrganisationDomain", doc: `mutation($a: ID!, $d: String!) { proposeOrganisationDomain(input: {customerAccountID: $a, domain: $d}) { id status } }`,
		vars:    map[string]string{"a": "$account", "d": "$domain"},
		own:     "anon=UNAUTHENTICATED admin,keyFull,salesC,staffAdmin=OK noportal,expired,deact,salesX,scoped=NOT_FOUND *=FORBIDDEN",
		foreign: "anon=UNAUTHENTICATED staffAdmin=OK support,supportC=FORBIDDEN *=NOT_FOUND"},
	{field: "Mutation.confirmOrganisationDomain", doc: `mutation($i: ID!) { confirmOrganisationDomain(id: $i) { id status } }`,
		vars: map[string]string{"i": "$proposedDomain"},
		own:  "anon=UNAUTHENTICATED support,supportC,staffAdmin=OK *=FORBIDDEN"},
	{field: "Mutation.removeOrganisationDomain", doc: `mutation($i: ID!) { removeOrganisationDomain(id: $i) { id } }`,
		vars:    map[string]string{"i": "$orgDomain"},
		own:     "anon=UNAUTHENTICATED admin,keyFull,salesC,staffAdmin,support,supportC=OK noportal,expired,deact,salesX,scoped=NOT_FOUND *=FORBIDDEN",
		foreign: "anon=UNAUTHENTICATED support,supportC,staffAdmin=OK *=NOT_FOUND"},
	{field: "Mutation.convertToBusinessAccount", doc: `mutation($a: ID!) { convertToBusinessAccount(customerAccountID: $a) { id kind } }`,
		vars: map[string]string{"a": "$personal"},
		own:  "anon=UNAUTHENTICATED support,supportC,staffAdmin=OK *=FORBIDDEN"},

	// ------------------------------------------------------------ lifecycles (issue 8 items 5, 6)
	// deleteMyAccount carries a wrong password: whoever passes the gate gets
	// BAD_USER_INPUT; keys and staff users never delete themselves.
	{field: "Mutation.deleteMyAccount", doc: `mutation { deleteMyAccount(input: {password: "wrong-password-1"}) }`,
		own: "scoped=FORBIDDEN anon=UNAUTHENTICATED keyRead,keyFull,support,supportC,sales,salesC,salesX,staffAdmin=FORBIDDEN *=BAD_USER_INPUT"},
	{field: "Mutation.restoreUserAccount", doc: `mutation { restoreUserAccount(id: "usr_01J00000000000000000000000") { id } }`,
		own: "anon=UNAUTHENTICATED support,supportC,staffAdmin=NOT_FOUND *=FORBIDDEN"},
	// $lifecycle is an account made for each principal and side alone, so
	// ADMIN's deactivate → reactivate → delete touches nobody else's rows.
	// Account managers (sales) may not: it is the provider's decision.
	{field: "Mutation.deactivateCustomerAccount", doc: `mutation($a: ID!) { deactivateCustomerAccount(customerAccountID: $a) { id } }`,
		vars: map[string]string{"a": "$lifecycle"}, own: "anon=UNAUTHENTICATED staffAdmin=OK *=FORBIDDEN"},
	{field: "Mutation.reactivateCustomerAccount", doc: `mutation($a: ID!) { reactivateCustomerAccount(customerAccountID: $a) { id } }`,
		vars: map[string]string{"a": "$lifecycle"}, own: "anon=UNAUTHENTICATED staffAdmin=OK *=FORBIDDEN"},
	{field: "Mutation.deleteCustomerAccount", doc: `mutation($a: ID!) { deleteCustomerAccount(customerAccountID: $a) { id } }`,
		vars: map[string]string{"a": "$lifecycle"}, own: "anon=UNAUTHENTICATED staffAdmin=OK *=FORBIDDEN"},
	// Master data: ACCOUNT_UPDATE is a customer admin's (and a full key's),
	// an assigned SALES user's on a consenting account, and ADMIN's. Only
	// the short name changes here: the shared accounts' time zone and
	// second-factor policy stay as they are.
	{field: "Mutation.updateCustomerAccount", doc: `mutation($a: ID!) { updateCustomerAccount(input: {customerAccountID: $a, shortName: "MX"}) { id } }`,
		vars:    map[string]string{"a": "$account"},
		own:     "anon=UNAUTHENTICATED admin,salesC,staffAdmin,keyFull=OK portal,tech,group,support,supportC,sales,agency,keyRead=FORBIDDEN *=NOT_FOUND",
		foreign: "anon=UNAUTHENTICATED staffAdmin=OK support,supportC=FORBIDDEN *=NOT_FOUND"},

	// ------------------------------------------------------------ permissions and rights groups
	// myPermissions and can answer every logged-in caller, for an account it
	// cannot see as for one that does not exist (empty list, false).
	{field: "Query.myPermissions", doc: `query($a: ID!) { myPermissions(customerAccountID: $a) }`,
		vars: map[string]string{"a": "$account"}, own: "scoped=FORBIDDEN anon=UNAUTHENTICATED *=OK"},
	{field: "Query.can", doc: `query($a: ID!) { can(customerAccountID: $a, permission: GROUPS_MANAGE) }`,
		vars: map[string]string{"a": "$account"}, own: "scoped=FORBIDDEN anon=UNAUTHENTICATED *=OK"},
	{field: "Query.permissionCatalogue", doc: `{ permissionCatalogue { name description } }`,
		own: "scoped=FORBIDDEN anon=UNAUTHENTICATED *=OK"},
	// GROUPS_MANAGE: customer admins and staff ADMIN; the group member holds
	// contacts:read/manage only. Rows run in order: add before remove
	// before delete, on each principal's own target group.
	{field: "Mutation.createRightsGroup", doc: `mutation($a: ID!, $n: String!) { createRightsGroup(input: {customerAccountID: $a, name: $n}) { id } }`,
		vars:    map[string]string{"a": "$account", "n": "$unique"},
		own:     "anon=UNAUTHENTICATED admin,keyFull,staffAdmin=OK portal,tech,group,keyRead,agency,support,supportC,sales,salesC=FORBIDDEN *=NOT_FOUND",
		foreign: "anon=UNAUTHENTICATED staffAdmin=OK support,supportC=FORBIDDEN *=NOT_FOUND"},
	{field: "Mutation.updateRightsGroup", doc: `mutation($g: ID!) { updateRightsGroup(input: {groupID: $g, description: "Matrix"}) { id } }`,
		vars:    map[string]string{"g": "$group"},
		own:     "anon=UNAUTHENTICATED admin,keyFull,staffAdmin=OK portal,tech,group,keyRead,agency,support,supportC,sales,salesC=FORBIDDEN *=NOT_FOUND",
		foreign: "anon=UNAUTHENTICATED staffAdmin=OK support,supportC=FORBIDDEN *=NOT_FOUND"},
	{field: "Mutation.setRightsGroupPermissions", doc: `mutation($g: ID!) { setRightsGroupPermissions(input: {groupID: $g, permissions: [CONTACTS_READ]}) { id } }`,
		vars:    map[string]string{"g": "$group"},
		own:     "anon=UNAUTHENTICATED admin,keyFull,staffAdmin=OK portal,tech,group,keyRead,agency,support,supportC,sales,salesC=FORBIDDEN *=NOT_FOUND",
		foreign: "anon=UNAUTHENTICATED staffAdmin=OK support,supportC=FORBIDDEN *=NOT_FOUND"},
	{field: "Mutation.addRightsGroupMember", doc: `mutation($g: ID!, $c: ID!) { addRightsGroupMember(input: {groupID: $g, contactID: $c}) { id } }`,
		vars:    map[string]string{"g": "$group", "c": "$contact"},
		own:     "anon=UNAUTHENTICATED admin,keyFull,staffAdmin=OK portal,tech,group,keyRead,agency,support,supportC,sales,salesC=FORBIDDEN *=NOT_FOUND",
		foreign: "anon=UNAUTHENTICATED staffAdmin=OK support,supportC=FORBIDDEN *=NOT_FOUND"},
	{field: "Mutation.removeRightsGroupMember", doc: `mutation($g: ID!, $c: ID!) { removeRightsGroupMember(input: {groupID: $g, contactID: $c}) { id } }`,
		vars:    map[string]string{"g": "$group", "c": "$contact"},
		own:     "anon=UNAUTHENTICATED admin,keyFull,staffAdmin=OK portal,tech,group,keyRead,agency,support,supportC,sales,salesC=FORBIDDEN *=NOT_FOUND",
		foreign: "anon=UNAUTHENTICATED staffAdmin=OK support,supportC=FORBIDDEN *=NOT_FOUND"},
	{field: "Mutation.deleteRightsGroup", doc: `mutation($g: ID!) { deleteRightsGroup(input: {groupID: $g}) }`,
		vars:    map[string]string{"g": "$group"},
		own:     "anon=UNAUTHENTICATED admin,keyFull,staffAdmin=OK portal,tech,group,keyRead,agency,support,supportC,sales,salesC=FORBIDDEN *=NOT_FOUND",
		foreign: "anon=UNAUTHENTICATED staffAdmin=OK support,supportC=FORBIDDEN *=NOT_FOUND"},

	// ------------------------------------------------------------ identity: public
	// Public fields answer every caller alike; these documents carry
	// credentials that are wrong, so every caller gets the same refusal.
	{field: "Mutation.login", doc: `mutation($l: String!) { login(input: {login: $l, password: "wrong-password-1"}) { accessToken } }`,
		vars: map[string]string{"l": "$login"}, own: "*=UNAUTHENTICATED"},
	{field: "Mutation.verifySecondFactor", doc: `mutation { verifySecondFactor(input: {challengeID: "chl_01J00000000000000000000000", method: EMAIL_CODE, code: "00000"}) { accessToken } }`,
		own: "*=UNAUTHENTICATED"},
	{field: "Mutation.sendLoginCode", doc: `mutation { sendLoginCode(input: {challengeID: "chl_01J00000000000000000000000", method: EMAIL_CODE}) }`,
		own: "*=UNAUTHENTICATED"},
	{field: "Mutation.refreshSession", doc: `mutation { refreshSession(refreshToken: "prt.ses_01J00000000000000000000000.x") { accessToken } }`,
		own: "*=UNAUTHENTICATED"},
	{field: "Mutation.signUp", doc: `mutation { signUp(input: {email: "not-an-address", username: "matrix-new", name: "M", password: "Wanderlust-Fjord-Kayak"}) { accepted } }`,
		own: "*=BAD_USER_INPUT"},
	{field: "Mutation.verifyEmail", doc: `mutation { verifyEmail(token: "not-a-token") }`, own: "*=BAD_USER_INPUT"},
	{field: "Mutation.requestPasswordReset", doc: `mutation($l: String!) { requestPasswordReset(login: $l) }`,
		vars: map[string]string{"l": "$login"}, own: "*=OK", advance: time.Hour},
	{field: "Mutation.resetPassword", doc: `mutation { resetPassword(input: {token: "not-a-token", newPassword: "Wanderlust-Fjord-Kayak"}) }`,
		own: "*=BAD_USER_INPUT"},

	// ------------------------------------------------------------ identity: the caller's own login
	{field: "Mutation.logout", doc: `mutation { logout }`, own: "anon=UNAUTHENTICATED keyRead,keyFull=FORBIDDEN *=OK"},
	{field: "Mutation.revokeSession", doc: `mutation { revokeSession(id: "ses_01J00000000000000000000000") }`,
		own: "scoped=FORBIDDEN anon=UNAUTHENTICATED keyRead,keyFull=FORBIDDEN *=NOT_FOUND"},
	{field: "Mutation.revokeOtherSessions", doc: `mutation { revokeOtherSessions }`, own: "scoped=FORBIDDEN anon=UNAUTHENTICATED keyRead,keyFull=FORBIDDEN *=OK"},
	{field: "Mutation.linkContacts", doc: `mutation { linkContacts }`, own: "scoped=FORBIDDEN anon=UNAUTHENTICATED keyRead,keyFull=FORBIDDEN *=OK"},
	{field: "Mutation.resendVerificationEmail", doc: `mutation { resendVerificationEmail }`,
		own: "scoped=FORBIDDEN anon=UNAUTHENTICATED keyRead,keyFull=FORBIDDEN *=BAD_USER_INPUT"},
	{field: "Mutation.requestEmailChange", doc: `mutation($l: String!) { requestEmailChange(input: {newEmail: $l, password: "wrong-password-1"}) }`,
		vars: map[string]string{"l": "$login"}, own: "scoped=FORBIDDEN anon=UNAUTHENTICATED keyRead,keyFull=FORBIDDEN *=BAD_USER_INPUT"},
	{field: "Mutation.changePassword", doc: `mutation { changePassword(input: {currentPassword: "wrong-password-1", newPassword: "Wanderlust-Fjord-Kayak"}) }`,
		own: "anon=UNAUTHENTICATED keyRead,keyFull=FORBIDDEN *=BAD_USER_INPUT"},
	{field: "Mutation.startTotpEnrollment", doc: `mutation { startTotpEnrollment { otpauthURI } }`, own: "scoped=FORBIDDEN anon=UNAUTHENTICATED keyRead,keyFull=FORBIDDEN *=OK"},
	{field: "Mutation.requestSecondFactorCode", doc: `mutation { requestSecondFactorCode(method: EMAIL_CODE) }`,
		own: "scoped=FORBIDDEN anon=UNAUTHENTICATED keyRead,keyFull=FORBIDDEN *=OK"},
	{field: "Mutation.enableTwoFactor", doc: `mutation { enableTwoFactor(input: {method: EMAIL_CODE, code: "00000", password: "wrong-password-1"}) { methods } }`,
		own: "scoped=FORBIDDEN anon=UNAUTHENTICATED keyRead,keyFull=FORBIDDEN *=BAD_USER_INPUT"},
	{field: "Mutation.disableTwoFactor", doc: `mutation { disableTwoFactor(method: TOTP) { methods } }`,
		own: "scoped=FORBIDDEN anon=UNAUTHENTICATED keyRead,keyFull=FORBIDDEN *=BAD_USER_INPUT"},
	{field: "Mutation.confirmSecondFactor", doc: `mutation { confirmSecondFactor(input: {method: EMAIL_CODE, code: "00000"}) }`,
		own: "scoped=FORBIDDEN anon=UNAUTHENTICATED keyRead,keyFull=FORBIDDEN *=BAD_USER_INPUT"},
	// The user's own phone number: every user (staff too) may set one; keys
	// never. The documents fail harmlessly before any password try or SMS:
	// a malformed number, no pending change, no number on file.
	{field: "Mutation.setPhoneNumber", doc: `mutation { setPhoneNumber(input: {phone: "0151 not a number", password: "wrong-password-1"}) { pendingPhone } }`,
		own: "scoped=FORBIDDEN anon=UNAUTHENTICATED keyRead,keyFull=FORBIDDEN *=BAD_USER_INPUT"},
	{field: "Mutation.verifyPhoneNumber", doc: `mutation { verifyPhoneNumber(code: "00000") { phone } }`,
		own: "scoped=FORBIDDEN anon=UNAUTHENTICATED keyRead,keyFull=FORBIDDEN *=BAD_USER_INPUT"},
	{field: "Mutation.removePhoneNumber", doc: `mutation { removePhoneNumber(password: "wrong-password-1") { phone } }`,
		own: "scoped=FORBIDDEN anon=UNAUTHENTICATED keyRead,keyFull=FORBIDDEN *=BAD_USER_INPUT"},

	// ------------------------------------------------------------ API keys
	// Listing needs some right on the account (own keys; all of the
	// account's with APIKEYS_MANAGE); creating needs APIKEYS_MANAGE, and
	// staff own no keys (FORBIDDEN even for ADMIN).
	{field: "Query.apiKeys", doc: `query($a: ID) { apiKeys(customerAccountID: $a) { id } }`, vars: map[string]string{"a": "$account"},
		own:     "scoped=FORBIDDEN anon=UNAUTHENTICATED noportal,expired,deact,salesX=NOT_FOUND keyRead,keyFull=FORBIDDEN *=OK",
		foreign: "scoped=FORBIDDEN anon=UNAUTHENTICATED support,supportC,staffAdmin=OK keyRead,keyFull=FORBIDDEN *=NOT_FOUND"},
	{field: "Mutation.createApiKey", doc: `mutation($a: ID!, $x: Time!) { createApiKey(input: {customerAccountID: $a, name: "Matrix", permissions: [ACCOUNT_READ], expiresAt: $x}) { apiKey { id } } }`,
		vars:    map[string]string{"a": "$account", "x": "$expiry"},
		own:     "scoped=NOT_FOUND anon=UNAUTHENTICATED admin=OK noportal,expired,deact,salesX=NOT_FOUND *=FORBIDDEN",
		foreign: "anon=UNAUTHENTICATED support,supportC,staffAdmin,keyRead,keyFull=FORBIDDEN *=NOT_FOUND"},
	{field: "Mutation.revokeApiKey", doc: `mutation { revokeApiKey(id: "key_01J00000000000000000000000") { id } }`,
		own: "scoped=FORBIDDEN anon=UNAUTHENTICATED keyRead,keyFull=FORBIDDEN *=NOT_FOUND"},

	// ------------------------------------------------------------ support authorizations (Freigaben)
	// ORDERING_LIMITED is granted by staff only: a customer admin who holds
	// AUTHORIZATIONS_MANAGE is refused too. Support staff read, never manage.
	{field: "Mutation.grantSupportAuthorization", doc: `mutation($c: ID!) { grantSupportAuthorization(input: {contactID: $c, kind: ORDERING_LIMITED, scope: {businessArea: "Matrix", budgetCents: 100, currency: "EUR"}}) { id } }`,
		vars:    map[string]string{"c": "$contact"},
		own:     "scoped=NOT_FOUND anon=UNAUTHENTICATED staffAdmin=OK noportal,expired,deact,salesX=NOT_FOUND *=FORBIDDEN",
		foreign: "anon=UNAUTHENTICATED staffAdmin=OK support,supportC=FORBIDDEN *=NOT_FOUND"},
	{field: "Mutation.changeSupportAuthorizationValidity", doc: `mutation { changeSupportAuthorizationValidity(input: {authorizationID: "sau_01J00000000000000000000000"}) { id } }`,
		own: "anon=UNAUTHENTICATED *=NOT_FOUND"},
	{field: "Mutation.revokeSupportAuthorization", doc: `mutation { revokeSupportAuthorization(input: {authorizationID: "sau_01J00000000000000000000000"}) { id } }`,
		own: "anon=UNAUTHENTICATED *=NOT_FOUND"},
	{field: "Mutation.setAccountSla", doc: `mutation($a: ID!) { setAccountSla(input: {customerAccountID: $a}) { id } }`,
		vars: map[string]string{"a": "$account"},
		own:  "anon=UNAUTHENTICATED staffAdmin=OK *=FORBIDDEN"},

	// ------------------------------------------------------------ support PINs and the support desk (issue 9)
	// A person's own PIN: every login that is a person; never an API key.
	{field: "Query.mySupportPin", doc: `{ mySupportPin { validUntil } }`,
		own: "anon=UNAUTHENTICATED keyRead,keyFull=FORBIDDEN *=OK"},
	{field: "Mutation.rotateSupportPin", doc: `mutation { rotateSupportPin { validUntil } }`,
		own: "anon=UNAUTHENTICATED keyRead,keyFull=FORBIDDEN *=OK"},
	// The desk: SUPPORT and ADMIN on any number (no consent needed), SALES
	// on its assigned accounts only; customers never. A wrong PIN is a
	// plain no-match (OK). Per number this table spends at most 3 of the 5
	// failed checks a window allows.
	{field: "Mutation.verifySupportPin", doc: `mutation($n: String!) { verifySupportPin(input: {customerNumber: $n, pin: "0000 0000"}) { match } }`,
		vars:    map[string]string{"n": "$number"},
		own:     "anon=UNAUTHENTICATED support,supportC,sales,salesC,staffAdmin=OK *=FORBIDDEN",
		foreign: "anon=UNAUTHENTICATED support,supportC,staffAdmin=OK *=FORBIDDEN"},
	{field: "Mutation.authorizeSupportRequest", doc: `mutation($n: String!, $c: ID!) { authorizeSupportRequest(input: {customerNumber: $n, contactID: $c, request: VPN_ACCESS_NEW}) { decision reason } }`,
		vars:    map[string]string{"n": "$number", "c": "$contact"},
		own:     "anon=UNAUTHENTICATED support,supportC,sales,salesC,staffAdmin=OK *=FORBIDDEN",
		foreign: "anon=UNAUTHENTICATED support,supportC,staffAdmin=OK *=FORBIDDEN"},

	// ------------------------------------------------------------ agencies
	// delegateToAgency names an agency that does not exist: whoever passes
	// the gate gets BAD_USER_INPUT.
	{field: "Query.agencyClients", doc: `query($a: ID!) { agencyClients(agencyAccountID: $a) { number } }`,
		vars:    map[string]string{"a": "$account"},
		own:     "scoped=NOT_FOUND anon=UNAUTHENTICATED admin,staffAdmin,keyFull=OK noportal,expired,deact,salesX=NOT_FOUND *=FORBIDDEN",
		foreign: "anon=UNAUTHENTICATED staffAdmin=OK support,supportC=FORBIDDEN *=NOT_FOUND"},
	{field: "Mutation.delegateToAgency", doc: `mutation($a: ID!) { delegateToAgency(input: {clientAccountID: $a, agencyCustomerNumber: "00000", permissions: [ACCOUNT_READ]}) { id } }`,
		vars:    map[string]string{"a": "$account"},
		own:     "scoped=NOT_FOUND anon=UNAUTHENTICATED admin,staffAdmin,keyFull=BAD_USER_INPUT noportal,expired,deact,salesX=NOT_FOUND *=FORBIDDEN",
		foreign: "anon=UNAUTHENTICATED staffAdmin=BAD_USER_INPUT support,supportC=FORBIDDEN *=NOT_FOUND"},
	{field: "Mutation.revokeAgencyDelegation", doc: `mutation { revokeAgencyDelegation(input: {delegationID: "dlg_01J00000000000000000000000"}) { id } }`,
		own: "anon=UNAUTHENTICATED *=NOT_FOUND"},
	{field: "Mutation.setAccountIsAgency", doc: `mutation($a: ID!) { setAccountIsAgency(input: {customerAccountID: $a, isAgency: false}) { id } }`,
		vars: map[string]string{"a": "$account"},
		own:  "anon=UNAUTHENTICATED staffAdmin=OK *=FORBIDDEN"},
	{field: "Mutation.setDefaultAgency", doc: `mutation($a: ID!) { setDefaultAgency(input: {customerAccountID: $a}) { id } }`,
		vars:    map[string]string{"a": "$account"},
		own:     "scoped=NOT_FOUND anon=UNAUTHENTICATED admin,salesC,staffAdmin,keyFull=OK noportal,expired,deact,salesX=NOT_FOUND *=FORBIDDEN",
		foreign: "anon=UNAUTHENTICATED staffAdmin=OK support,supportC=FORBIDDEN *=NOT_FOUND"},

	{field: "Mutation.regenerateRecoveryCodes", doc: `mutation { regenerateRecoveryCodes { recoveryCodes } }`,
		own: "scoped=FORBIDDEN anon=UNAUTHENTICATED keyRead,keyFull=FORBIDDEN *=BAD_USER_INPUT"},
	// ------------------------------------------------------------ staff (issue 7 §5)
	// Documents that would change staff users name a made-up user or an
	// invalid address, so ADMIN's row shows the check after the directive.
	{field: "Query.staffUsers", doc: `{ staffUsers { id } }`,
		own: "anon=UNAUTHENTICATED staffAdmin=OK *=FORBIDDEN"},
	{field: "Mutation.inviteStaffUser", doc: `mutation { inviteStaffUser(input: {email: "not-an-address", name: "M", role: SUPPORT}) { id } }`,
		own: "anon=UNAUTHENTICATED staffAdmin=BAD_USER_INPUT *=FORBIDDEN"},
	{field: "Mutation.acceptStaffInvitation", doc: `mutation { acceptStaffInvitation(input: {token: "not-a-token", password: "Wanderlust-Fjord-Kayak"}) }`,
		own: "*=BAD_USER_INPUT", advance: time.Hour},
	{field: "Mutation.changeStaffRole", doc: `mutation { changeStaffRole(input: {userID: "usr_01J00000000000000000000000", role: SUPPORT}) { id } }`,
		own: "anon=UNAUTHENTICATED staffAdmin=NOT_FOUND *=FORBIDDEN"},
	{field: "Mutation.removeStaffUser", doc: `mutation { removeStaffUser(userID: "usr_01J00000000000000000000000") }`,
		own: "anon=UNAUTHENTICATED staffAdmin=NOT_FOUND *=FORBIDDEN"},
	{field: "Mutation.assignAccountManager", doc: `mutation($a: ID!) { assignAccountManager(input: {customerAccountID: $a, userID: "usr_01J00000000000000000000000"}) { id } }`,
		vars: map[string]string{"a": "$account"},
		own:  "anon=UNAUTHENTICATED staffAdmin=NOT_FOUND *=FORBIDDEN"},
	{field: "Mutation.unassignAccountManager", doc: `mutation($a: ID!) { unassignAccountManager(input: {customerAccountID: $a, userID: "usr_01J00000000000000000000000"}) { id } }`,
		vars: map[string]string{"a": "$account"},
		own:  "anon=UNAUTHENTICATED staffAdmin=NOT_FOUND *=FORBIDDEN"},
	// consent: false leaves A's consent as it is for the rows after this one.
	// Staff never decide it: FORBIDDEN also where the role holds ACCOUNT_UPDATE.
	{field: "Mutation.setSupportAccessConsent", doc: `mutation($a: ID!) { setSupportAccessConsent(input: {customerAccountID: $a, consent: false}) { id } }`,
		vars:    map[string]string{"a": "$account"},
		own:     "scoped=NOT_FOUND anon=UNAUTHENTICATED admin,keyFull=OK noportal,expired,deact,salesX=NOT_FOUND *=FORBIDDEN",
		foreign: "anon=UNAUTHENTICATED support,supportC,staffAdmin=FORBIDDEN *=NOT_FOUND"},

	// ------------------------------------------------------------ resources and scoped logins (issue 9)
	// RESOURCES_MANAGE: customer admins, a full key, staff SUPPORT (the
	// provider provisions what it hosts) and ADMIN. The scoped login holds
	// no permission on any account: NOT_FOUND.
	{field: "Mutation.createResource", doc: `mutation($a: ID!, $n: String!) { createResource(input: {customerAccountID: $a, kind: WEB_VHOST, name: $n}) { id } }`,
		vars:    map[string]string{"a": "$account", "n": "$hostname"},
		own:     "anon=UNAUTHENTICATED admin,keyFull,support,supportC,staffAdmin=OK portal,tech,group,agency,sales,salesC,keyRead=FORBIDDEN *=NOT_FOUND",
		foreign: "anon=UNAUTHENTICATED support,supportC,staffAdmin=OK *=NOT_FOUND"},
	// Credentials of a resource: LOGINS_MANAGE (customer admins, a full key,
	// staff ADMIN) or a CREDENTIALS_* Freigabe, which no matrix principal
	// holds (scoped_test.go covers them). Rows run in order on each
	// principal's own targets: create, password, disable, enable, delete.
	{field: "Mutation.createScopedLogin", doc: `mutation($r: ID!, $l: String!) { createScopedLogin(input: {resourceID: $r, loginName: $l, password: "Wanderlust-Fjord-Kayak"}) { id } }`,
		vars:    map[string]string{"r": "$resource", "l": "$mailbox"},
		own:     "anon=UNAUTHENTICATED admin,keyFull,staffAdmin=OK noportal,expired,deact,salesX,scoped=NOT_FOUND *=FORBIDDEN",
		foreign: "anon=UNAUTHENTICATED staffAdmin=OK support,supportC=FORBIDDEN *=NOT_FOUND"},
	{field: "Mutation.changeScopedLoginPassword", doc: `mutation($s: ID!) { changeScopedLoginPassword(input: {scopedLoginID: $s, newPassword: "Wanderlust-Fjord-Kayak"}) { id } }`,
		vars:    map[string]string{"s": "$scopedLogin"},
		own:     "anon=UNAUTHENTICATED admin,keyFull,staffAdmin=OK noportal,expired,deact,salesX,scoped=NOT_FOUND *=FORBIDDEN",
		foreign: "anon=UNAUTHENTICATED staffAdmin=OK support,supportC=FORBIDDEN *=NOT_FOUND"},
	{field: "Mutation.disableScopedLogin", doc: `mutation($s: ID!) { disableScopedLogin(scopedLoginID: $s) { id } }`,
		vars:    map[string]string{"s": "$scopedLogin"},
		own:     "anon=UNAUTHENTICATED admin,keyFull,staffAdmin=OK noportal,expired,deact,salesX,scoped=NOT_FOUND *=FORBIDDEN",
		foreign: "anon=UNAUTHENTICATED staffAdmin=OK support,supportC=FORBIDDEN *=NOT_FOUND"},
	{field: "Mutation.enableScopedLogin", doc: `mutation($s: ID!) { enableScopedLogin(scopedLoginID: $s) { id } }`,
		vars:    map[string]string{"s": "$scopedLogin"},
		own:     "anon=UNAUTHENTICATED admin,keyFull,staffAdmin=OK noportal,expired,deact,salesX,scoped=NOT_FOUND *=FORBIDDEN",
		foreign: "anon=UNAUTHENTICATED staffAdmin=OK support,supportC=FORBIDDEN *=NOT_FOUND"},
	{field: "Mutation.deleteScopedLogin", doc: `mutation($s: ID!) { deleteScopedLogin(scopedLoginID: $s) { id } }`,
		vars:    map[string]string{"s": "$scopedLogin"},
		own:     "anon=UNAUTHENTICATED admin,keyFull,staffAdmin=OK noportal,expired,deact,salesX,scoped=NOT_FOUND *=FORBIDDEN",
		foreign: "anon=UNAUTHENTICATED staffAdmin=OK support,supportC=FORBIDDEN *=NOT_FOUND"},
	// A scoped login and every user (staff too) change their own reference
	// address (here with a wrong password); keys refused.
	{field: "Mutation.requestReferenceEmailChange", doc: `mutation { requestReferenceEmailChange(input: {newEmail: "new-ref@matrix.test", password: "wrong-password-1"}) }`,
		own: "anon=UNAUTHENTICATED keyRead,keyFull=FORBIDDEN *=BAD_USER_INPUT"},
	// Only a user removes its reference address (issue 9 item 3); nobody
	// here has one, so it fails before any password try.
	{field: "Mutation.removeReferenceEmail", doc: `mutation { removeReferenceEmail(password: "wrong-password-1") }`,
		own: "scoped=FORBIDDEN anon=UNAUTHENTICATED keyRead,keyFull=FORBIDDEN *=BAD_USER_INPUT"},
	{field: "Mutation.confirmReferenceEmail", doc: `mutation { confirmReferenceEmail(token: "not-a-token") }`,
		own: "*=BAD_USER_INPUT", advance: time.Hour},
}
