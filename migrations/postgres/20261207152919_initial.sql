-- Create "one_time_tokens" table
CREATE TABLE "one_time_tokens" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "purpose" character varying NOT NULL, "user_id" character varying NOT NULL, "token_hash" character varying NOT NULL, "new_email" character varying NULL, "expires_at" timestamptz NOT NULL, "used_at" timestamptz NULL, "invalidated_at" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "one_time_tokens_token_hash_key" to table: "one_time_tokens"
CREATE UNIQUE INDEX "one_time_tokens_token_hash_key" ON "one_time_tokens" ("token_hash");
-- Create index "onetimetoken_user_id_purpose" to table: "one_time_tokens"
CREATE INDEX "onetimetoken_user_id_purpose" ON "one_time_tokens" ("user_id", "purpose");
-- Create "login_challenges" table
CREATE TABLE "login_challenges" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "purpose" character varying NOT NULL, "user_id" character varying NOT NULL, "session_id" character varying NULL, "methods" jsonb NOT NULL, "code_hash" character varying NULL, "code_method" character varying NULL, "phone" character varying NULL, "code_expires_at" timestamptz NULL, "attempts" bigint NOT NULL DEFAULT 0, "expires_at" timestamptz NOT NULL, "consumed_at" timestamptz NULL, "ip" character varying NOT NULL DEFAULT '', "user_agent" character varying NOT NULL DEFAULT '', PRIMARY KEY ("id"));
-- Create "rate_limit_buckets" table
CREATE TABLE "rate_limit_buckets" ("id" character varying NOT NULL, "window_start" timestamptz NOT NULL, "count" bigint NOT NULL DEFAULT 0, PRIMARY KEY ("id"));
-- Create "idempotency_keys" table
CREATE TABLE "idempotency_keys" ("id" character varying NOT NULL, "request_hash" character varying NOT NULL, "response" text NOT NULL, "created_at" timestamptz NOT NULL, "expires_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create index "idempotencykey_expires_at" to table: "idempotency_keys"
CREATE INDEX "idempotencykey_expires_at" ON "idempotency_keys" ("expires_at");
-- Create "support_pin_states" table
CREATE TABLE "support_pin_states" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "user_id" character varying NULL, "scoped_login_id" character varying NULL, "nonce" character varying NOT NULL, "counter" bigint NOT NULL DEFAULT 0, "rotated_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create index "support_pin_states_scoped_login_id_key" to table: "support_pin_states"
CREATE UNIQUE INDEX "support_pin_states_scoped_login_id_key" ON "support_pin_states" ("scoped_login_id");
-- Create index "support_pin_states_user_id_key" to table: "support_pin_states"
CREATE UNIQUE INDEX "support_pin_states_user_id_key" ON "support_pin_states" ("user_id");
-- Create "customer_accounts" table
CREATE TABLE "customer_accounts" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "number" character varying NOT NULL, "name" character varying NOT NULL, "short_name" character varying NULL, "kind" character varying NOT NULL DEFAULT 'BUSINESS', "time_zone" character varying NOT NULL DEFAULT 'Europe/Berlin', "status" character varying NOT NULL DEFAULT 'ACTIVE', "deactivated_at" timestamptz NULL, "deleted_at" timestamptz NULL, "has_sla" boolean NOT NULL DEFAULT false, "sla_until" character varying NULL, "portal_enabled" boolean NOT NULL DEFAULT true, "storage_quota_bytes" bigint NULL, "is_agency" boolean NOT NULL DEFAULT false, "support_access_consent" boolean NOT NULL DEFAULT false, "address_street" character varying NULL, "address_postal_code" character varying NULL, "address_city" character varying NULL, "address_country" character varying NULL, "locale" character varying NOT NULL DEFAULT 'de', "second_factor_required" boolean NOT NULL DEFAULT false, "default_agency_id" character varying NULL, PRIMARY KEY ("id"), CONSTRAINT "customer_accounts_customer_accounts_default_agency_clients" FOREIGN KEY ("default_agency_id") REFERENCES "customer_accounts" ("id") ON UPDATE NO ACTION ON DELETE SET NULL);
-- Create index "customer_accounts_number_key" to table: "customer_accounts"
CREATE UNIQUE INDEX "customer_accounts_number_key" ON "customer_accounts" ("number");
-- Create "retired_identifiers" table
CREATE TABLE "retired_identifiers" ("id" character varying NOT NULL, "user_id" character varying NOT NULL, "retired_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create "outbox_messages" table
CREATE TABLE "outbox_messages" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "channel" character varying NOT NULL, "recipient" character varying NOT NULL, "subject" character varying NOT NULL DEFAULT '', "body" text NOT NULL, "status" character varying NOT NULL DEFAULT 'PENDING', "attempts" bigint NOT NULL DEFAULT 0, "next_attempt_at" timestamptz NOT NULL, "sent_at" timestamptz NULL, "last_error" character varying NULL, PRIMARY KEY ("id"));
-- Create index "outboxmessage_status_next_attempt_at" to table: "outbox_messages"
CREATE INDEX "outboxmessage_status_next_attempt_at" ON "outbox_messages" ("status", "next_attempt_at");
-- Create "user_accounts" table
CREATE TABLE "user_accounts" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "email" character varying NULL, "pending_email" character varying NULL, "email_verified_at" timestamptz NULL, "username" character varying NOT NULL, "name" character varying NOT NULL DEFAULT '', "phone" character varying NULL, "phone_verified_at" timestamptz NULL, "pending_phone" character varying NULL, "reference_email" character varying NULL, "reference_email_confirmed_at" timestamptz NULL, "locale" character varying NOT NULL DEFAULT 'de', "password_hash" character varying NULL, "password_changed_at" timestamptz NULL, "must_change_password" boolean NOT NULL DEFAULT false, "second_factor_methods" jsonb NULL, "totp_secret" character varying NULL, "recovery_code_hashes" jsonb NULL, "pending_totp_secret" character varying NULL, "totp_last_step" bigint NULL, "status" character varying NOT NULL DEFAULT 'ACTIVE', "deleted_at" timestamptz NULL, "anonymised_at" timestamptz NULL, "last_login_at" timestamptz NULL, "staff_role" character varying NULL, PRIMARY KEY ("id"));
-- Create index "user_accounts_email_key" to table: "user_accounts"
CREATE UNIQUE INDEX "user_accounts_email_key" ON "user_accounts" ("email");
-- Create index "user_accounts_username_key" to table: "user_accounts"
CREATE UNIQUE INDEX "user_accounts_username_key" ON "user_accounts" ("username");
-- Create index "useraccount_pending_email" to table: "user_accounts"
CREATE INDEX "useraccount_pending_email" ON "user_accounts" ("pending_email");
-- Create "account_managers" table
CREATE TABLE "account_managers" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "customer_account_id" character varying NOT NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "account_managers_customer_accounts_account_managers" FOREIGN KEY ("customer_account_id") REFERENCES "customer_accounts" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "account_managers_user_accounts_managed_accounts" FOREIGN KEY ("user_id") REFERENCES "user_accounts" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "accountmanager_customer_account_id_user_id" to table: "account_managers"
CREATE UNIQUE INDEX "accountmanager_customer_account_id_user_id" ON "account_managers" ("customer_account_id", "user_id");
-- Create index "accountmanager_user_id" to table: "account_managers"
CREATE INDEX "accountmanager_user_id" ON "account_managers" ("user_id");
-- Create "agency_delegations" table
CREATE TABLE "agency_delegations" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "permissions" jsonb NULL, "granted_by_id" character varying NULL, "valid_from" timestamptz NOT NULL, "valid_until" character varying NULL, "ended_at" timestamptz NULL, "customer_account_id" character varying NOT NULL, "agency_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "agency_delegations_customer_accounts_delegations_granted" FOREIGN KEY ("customer_account_id") REFERENCES "customer_accounts" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "agency_delegations_customer_accounts_delegations_received" FOREIGN KEY ("agency_id") REFERENCES "customer_accounts" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "agencydelegation_agency_id" to table: "agency_delegations"
CREATE INDEX "agencydelegation_agency_id" ON "agency_delegations" ("agency_id");
-- Create index "agencydelegation_customer_account_id" to table: "agency_delegations"
CREATE INDEX "agencydelegation_customer_account_id" ON "agency_delegations" ("customer_account_id");
-- Create "api_keys" table
CREATE TABLE "api_keys" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "prefix" character varying NOT NULL, "secret_hash" character varying NOT NULL, "permissions" jsonb NULL, "expires_at" timestamptz NULL, "revoked_at" timestamptz NULL, "last_used_at" timestamptz NULL, "customer_account_id" character varying NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "api_keys_customer_accounts_api_keys" FOREIGN KEY ("customer_account_id") REFERENCES "customer_accounts" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, CONSTRAINT "api_keys_user_accounts_api_keys" FOREIGN KEY ("user_id") REFERENCES "user_accounts" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "api_keys_secret_hash_key" to table: "api_keys"
CREATE UNIQUE INDEX "api_keys_secret_hash_key" ON "api_keys" ("secret_hash");
-- Create "audit_events" table
CREATE TABLE "audit_events" ("id" character varying NOT NULL, "occurred_at" timestamptz NOT NULL, "actor_id" character varying NULL, "actor_kind" character varying NOT NULL, "acting_via" character varying NULL, "action" character varying NOT NULL, "target_type" character varying NULL, "target_id" character varying NULL, "changes" jsonb NULL, "ip" character varying NULL, "user_agent" character varying NULL, "request_id" character varying NULL, "customer_account_id" character varying NULL, PRIMARY KEY ("id"), CONSTRAINT "audit_events_customer_accounts_audit_events" FOREIGN KEY ("customer_account_id") REFERENCES "customer_accounts" ("id") ON UPDATE NO ACTION ON DELETE SET NULL);
-- Create index "auditevent_actor_id" to table: "audit_events"
CREATE INDEX "auditevent_actor_id" ON "audit_events" ("actor_id");
-- Create index "auditevent_customer_account_id_occurred_at" to table: "audit_events"
CREATE INDEX "auditevent_customer_account_id_occurred_at" ON "audit_events" ("customer_account_id", "occurred_at");
-- Create index "auditevent_target_id_occurred_at" to table: "audit_events"
CREATE INDEX "auditevent_target_id_occurred_at" ON "audit_events" ("target_id", "occurred_at");
-- Create "contacts" table
CREATE TABLE "contacts" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "email" character varying NULL, "phone" character varying NULL, "outside_organisation_domains" boolean NOT NULL DEFAULT false, "unlinked_user_id" character varying NULL, "deleted_at" timestamptz NULL, "former_user_id" character varying NULL, "customer_account_id" character varying NOT NULL, "user_id" character varying NULL, PRIMARY KEY ("id"), CONSTRAINT "contacts_customer_accounts_contacts" FOREIGN KEY ("customer_account_id") REFERENCES "customer_accounts" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "contacts_user_accounts_contacts" FOREIGN KEY ("user_id") REFERENCES "user_accounts" ("id") ON UPDATE NO ACTION ON DELETE SET NULL);
-- Create index "contact_customer_account_id" to table: "contacts"
CREATE INDEX "contact_customer_account_id" ON "contacts" ("customer_account_id");
-- Create index "contact_customer_account_id_email" to table: "contacts"
CREATE UNIQUE INDEX "contact_customer_account_id_email" ON "contacts" ("customer_account_id", "email") WHERE (deleted_at IS NULL);
-- Create index "contact_customer_account_id_user_id" to table: "contacts"
CREATE UNIQUE INDEX "contact_customer_account_id_user_id" ON "contacts" ("customer_account_id", "user_id") WHERE (deleted_at IS NULL);
-- Create index "contact_unlinked_user_id" to table: "contacts"
CREATE INDEX "contact_unlinked_user_id" ON "contacts" ("unlinked_user_id");
-- Create index "contact_user_id" to table: "contacts"
CREATE INDEX "contact_user_id" ON "contacts" ("user_id");
-- Create "rights_groups" table
CREATE TABLE "rights_groups" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "description" character varying NOT NULL DEFAULT '', "permissions" jsonb NULL, "built_in" boolean NOT NULL DEFAULT false, "customer_account_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "rights_groups_customer_accounts_rights_groups" FOREIGN KEY ("customer_account_id") REFERENCES "customer_accounts" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "rightsgroup_builtin_account" to table: "rights_groups"
CREATE UNIQUE INDEX "rightsgroup_builtin_account" ON "rights_groups" ("customer_account_id") WHERE built_in;
-- Create index "rightsgroup_customer_account_id" to table: "rights_groups"
CREATE INDEX "rightsgroup_customer_account_id" ON "rights_groups" ("customer_account_id");
-- Create index "rightsgroup_customer_account_id_name" to table: "rights_groups"
CREATE UNIQUE INDEX "rightsgroup_customer_account_id_name" ON "rights_groups" ("customer_account_id", "name");
-- Create "group_memberships" table
CREATE TABLE "group_memberships" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "granted_via_delegation_id" character varying NULL, "valid_from" timestamptz NOT NULL, "valid_until" character varying NULL, "ended_at" timestamptz NULL, "contact_id" character varying NOT NULL, "customer_account_id" character varying NOT NULL, "group_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "group_memberships_contacts_group_memberships" FOREIGN KEY ("contact_id") REFERENCES "contacts" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "group_memberships_customer_accounts_group_memberships" FOREIGN KEY ("customer_account_id") REFERENCES "customer_accounts" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "group_memberships_rights_groups_memberships" FOREIGN KEY ("group_id") REFERENCES "rights_groups" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "groupmembership_contact_id" to table: "group_memberships"
CREATE INDEX "groupmembership_contact_id" ON "group_memberships" ("contact_id");
-- Create index "groupmembership_customer_account_id" to table: "group_memberships"
CREATE INDEX "groupmembership_customer_account_id" ON "group_memberships" ("customer_account_id");
-- Create index "groupmembership_group_id" to table: "group_memberships"
CREATE INDEX "groupmembership_group_id" ON "group_memberships" ("group_id");
-- Create "invitations" table
CREATE TABLE "invitations" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "email" character varying NOT NULL, "name" character varying NOT NULL DEFAULT '', "roles" jsonb NULL, "group_ids" jsonb NULL, "token_hash" character varying NOT NULL, "expires_at" timestamptz NOT NULL, "outside_organisation_domains" boolean NOT NULL DEFAULT false, "valid_until" character varying NULL, "state" character varying NOT NULL DEFAULT 'PENDING', "accepted_at" timestamptz NULL, "revoked_at" timestamptz NULL, "contact_id" character varying NULL, "granted_via_delegation_id" character varying NULL, "customer_account_id" character varying NOT NULL, "invited_by_id" character varying NULL, "accepted_by_id" character varying NULL, PRIMARY KEY ("id"), CONSTRAINT "invitations_customer_accounts_invitations" FOREIGN KEY ("customer_account_id") REFERENCES "customer_accounts" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "invitations_user_accounts_accepted_by" FOREIGN KEY ("accepted_by_id") REFERENCES "user_accounts" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, CONSTRAINT "invitations_user_accounts_invited_by" FOREIGN KEY ("invited_by_id") REFERENCES "user_accounts" ("id") ON UPDATE NO ACTION ON DELETE SET NULL);
-- Create index "invitation_contact_id" to table: "invitations"
CREATE INDEX "invitation_contact_id" ON "invitations" ("contact_id");
-- Create index "invitation_customer_account_id" to table: "invitations"
CREATE INDEX "invitation_customer_account_id" ON "invitations" ("customer_account_id");
-- Create index "invitations_token_hash_key" to table: "invitations"
CREATE UNIQUE INDEX "invitations_token_hash_key" ON "invitations" ("token_hash");
-- Create "organisation_domains" table
CREATE TABLE "organisation_domains" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "domain" character varying NOT NULL, "status" character varying NOT NULL DEFAULT 'PROPOSED', "proposed_by_id" character varying NULL, "confirmed_by_id" character varying NULL, "confirmed_at" timestamptz NULL, "customer_account_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "organisation_domains_customer_accounts_organisation_domains" FOREIGN KEY ("customer_account_id") REFERENCES "customer_accounts" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "organisationdomain_customer_account_id" to table: "organisation_domains"
CREATE INDEX "organisationdomain_customer_account_id" ON "organisation_domains" ("customer_account_id");
-- Create index "organisationdomain_customer_account_id_domain" to table: "organisation_domains"
CREATE UNIQUE INDEX "organisationdomain_customer_account_id_domain" ON "organisation_domains" ("customer_account_id", "domain");
-- Create "resources" table
CREATE TABLE "resources" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "kind" character varying NOT NULL, "name" character varying NOT NULL, "customer_account_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "resources_customer_accounts_resources" FOREIGN KEY ("customer_account_id") REFERENCES "customer_accounts" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "resource_customer_account_id" to table: "resources"
CREATE INDEX "resource_customer_account_id" ON "resources" ("customer_account_id");
-- Create index "resource_customer_account_id_kind_name" to table: "resources"
CREATE UNIQUE INDEX "resource_customer_account_id_kind_name" ON "resources" ("customer_account_id", "kind", "name");
-- Create "role_assignments" table
CREATE TABLE "role_assignments" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "role" character varying NOT NULL, "granted_via_delegation_id" character varying NULL, "valid_from" timestamptz NOT NULL, "valid_until" character varying NULL, "ended_at" timestamptz NULL, "contact_id" character varying NOT NULL, "customer_account_id" character varying NOT NULL, "granted_by_id" character varying NULL, PRIMARY KEY ("id"), CONSTRAINT "role_assignments_contacts_role_assignments" FOREIGN KEY ("contact_id") REFERENCES "contacts" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "role_assignments_customer_accounts_role_assignments" FOREIGN KEY ("customer_account_id") REFERENCES "customer_accounts" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "role_assignments_user_accounts_granted_by" FOREIGN KEY ("granted_by_id") REFERENCES "user_accounts" ("id") ON UPDATE NO ACTION ON DELETE SET NULL);
-- Create index "roleassignment_contact_id" to table: "role_assignments"
CREATE INDEX "roleassignment_contact_id" ON "role_assignments" ("contact_id");
-- Create index "roleassignment_customer_account_id" to table: "role_assignments"
CREATE INDEX "roleassignment_customer_account_id" ON "role_assignments" ("customer_account_id");
-- Create "scoped_logins" table
CREATE TABLE "scoped_logins" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "login_name" character varying NOT NULL, "password_hash" character varying NULL, "reference_emails" jsonb NULL, "status" character varying NOT NULL DEFAULT 'ACTIVE', "must_change_password" boolean NOT NULL DEFAULT false, "last_login_at" timestamptz NULL, "customer_account_id" character varying NOT NULL, "resource_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "scoped_logins_customer_accounts_scoped_logins" FOREIGN KEY ("customer_account_id") REFERENCES "customer_accounts" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "scoped_logins_resources_scoped_logins" FOREIGN KEY ("resource_id") REFERENCES "resources" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "scoped_logins_login_name_key" to table: "scoped_logins"
CREATE UNIQUE INDEX "scoped_logins_login_name_key" ON "scoped_logins" ("login_name");
-- Create index "scopedlogin_customer_account_id" to table: "scoped_logins"
CREATE INDEX "scopedlogin_customer_account_id" ON "scoped_logins" ("customer_account_id");
-- Create "sessions" table
CREATE TABLE "sessions" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "scoped_login_id" character varying NULL, "refresh_token_hash" character varying NULL, "refresh_generation" bigint NOT NULL DEFAULT 0, "previous_refresh_hashes" jsonb NULL, "rotated_at" timestamptz NULL, "ip" character varying NOT NULL DEFAULT '', "user_agent" character varying NOT NULL DEFAULT '', "last_used_at" timestamptz NOT NULL, "expires_at" timestamptz NOT NULL, "revoked_at" timestamptz NULL, "revoke_reason" character varying NULL, "second_factor_at" timestamptz NULL, "user_id" character varying NULL, PRIMARY KEY ("id"), CONSTRAINT "sessions_user_accounts_sessions" FOREIGN KEY ("user_id") REFERENCES "user_accounts" ("id") ON UPDATE NO ACTION ON DELETE SET NULL);
-- Create index "session_user_id" to table: "sessions"
CREATE INDEX "session_user_id" ON "sessions" ("user_id");
-- Create "support_authorizations" table
CREATE TABLE "support_authorizations" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "kind" character varying NOT NULL, "scope_business_area" character varying NULL, "scope_budget_cents" bigint NULL, "scope_currency" character varying NULL, "granted_via_delegation_id" character varying NULL, "valid_from" timestamptz NOT NULL, "valid_until" character varying NULL, "ended_at" timestamptz NULL, "contact_id" character varying NOT NULL, "customer_account_id" character varying NOT NULL, "granted_by_id" character varying NULL, PRIMARY KEY ("id"), CONSTRAINT "support_authorizations_contacts_support_authorizations" FOREIGN KEY ("contact_id") REFERENCES "contacts" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "support_authorizations_customer_accounts_support_authorizations" FOREIGN KEY ("customer_account_id") REFERENCES "customer_accounts" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "support_authorizations_user_accounts_granted_by" FOREIGN KEY ("granted_by_id") REFERENCES "user_accounts" ("id") ON UPDATE NO ACTION ON DELETE SET NULL);
-- Create index "supportauthorization_contact_id" to table: "support_authorizations"
CREATE INDEX "supportauthorization_contact_id" ON "support_authorizations" ("contact_id");
-- Create index "supportauthorization_customer_account_id" to table: "support_authorizations"
CREATE INDEX "supportauthorization_customer_account_id" ON "support_authorizations" ("customer_account_id");
