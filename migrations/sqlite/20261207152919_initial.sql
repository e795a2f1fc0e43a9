-- Create "api_keys" table
CREATE TABLE `api_keys` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `prefix` text NOT NULL, `secret_hash` text NOT NULL, `permissions` json NULL, `expires_at` datetime NULL, `revoked_at` datetime NULL, `last_used_at` datetime NULL, `customer_account_id` text NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `api_keys_customer_accounts_api_keys` FOREIGN KEY (`customer_account_id`) REFERENCES `customer_accounts` (`id`) ON DELETE SET NULL, CONSTRAINT `api_keys_user_accounts_api_keys` FOREIGN KEY (`user_id`) REFERENCES `user_accounts` (`id`) ON DELETE NO ACTION);
-- Create index "api_keys_secret_hash_key" to table: "api_keys"
CREATE UNIQUE INDEX `api_keys_secret_hash_key` ON `api_keys` (`secret_hash`);
-- Create "account_managers" table
CREATE TABLE `account_managers` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `customer_account_id` text NOT NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `account_managers_customer_accounts_account_managers` FOREIGN KEY (`customer_account_id`) REFERENCES `customer_accounts` (`id`) ON DELETE NO ACTION, CONSTRAINT `account_managers_user_accounts_managed_accounts` FOREIGN KEY (`user_id`) REFERENCES `user_accounts` (`id`) ON DELETE NO ACTION);
-- Create index "accountmanager_customer_account_id_user_id" to table: "account_managers"
CREATE UNIQUE INDEX `accountmanager_customer_account_id_user_id` ON `account_managers` (`customer_account_id`, `user_id`);
-- Create index "accountmanager_user_id" to table: "account_managers"
CREATE INDEX `accountmanager_user_id` ON `account_managers` (`user_id`);
-- Create "agency_delegations" table
CREATE TABLE `agency_delegations` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `permissions` json NULL, `granted_by_id` text NULL, `valid_from` datetime NOT NULL, `valid_until` text NULL, `ended_at` datetime NULL, `customer_account_id` text NOT NULL, `agency_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `agency_delegations_customer_accounts_delegations_granted` FOREIGN KEY (`customer_account_id`) REFERENCES `customer_accounts` (`id`) ON DELETE NO ACTION, CONSTRAINT `agency_delegations_customer_accounts_delegations_received` FOREIGN KEY (`agency_id`) REFERENCES `customer_accounts` (`id`) ON DELETE NO ACTION);
-- Create index "agencydelegation_customer_account_id" to table: "agency_delegations"
CREATE INDEX `agencydelegation_customer_account_id` ON `agency_delegations` (`customer_account_id`);
-- Create index "agencydelegation_agency_id" to table: "agency_delegations"
CREATE INDEX `agencydelegation_agency_id` ON `agency_delegations` (`agency_id`);
-- Create "audit_events" table
CREATE TABLE `audit_events` (`id` text NOT NULL, `occurred_at` datetime NOT NULL, `actor_id` text NULL, `actor_kind` text NOT NULL, `acting_via` text NULL, `action` text NOT NULL, `target_type` text NULL, `target_id` text NULL, `changes` json NULL, `ip` text NULL, `user_agent` text NULL, `request_id` text NULL, `customer_account_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `audit_events_customer_accounts_audit_events` FOREIGN KEY (`customer_account_id`) REFERENCES `customer_accounts` (`id`) ON DELETE SET NULL);
-- Create index "auditevent_customer_account_id_occurred_at" to table: "audit_events"
CREATE INDEX `auditevent_customer_account_id_occurred_at` ON `audit_events` (`customer_account_id`, `occurred_at`);
-- Create index "auditevent_actor_id" to table: "audit_events"
CREATE INDEX `auditevent_actor_id` ON `audit_events` (`actor_id`);
-- Create index "auditevent_target_id_occurred_at" to table: "audit_events"
CREATE INDEX `auditevent_target_id_occurred_at` ON `audit_events` (`target_id`, `occurred_at`);
-- Create "contacts" table
CREATE TABLE `contacts` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `email` text NULL, `phone` text NULL, `outside_organisation_domains` bool NOT NULL DEFAULT (false), `unlinked_user_id` text NULL, `deleted_at` datetime NULL, `former_user_id` text NULL, `customer_account_id` text NOT NULL, `user_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `contacts_customer_accounts_contacts` FOREIGN KEY (`customer_account_id`) REFERENCES `customer_accounts` (`id`) ON DELETE NO ACTION, CONSTRAINT `contacts_user_accounts_contacts` FOREIGN KEY (`user_id`) REFERENCES `user_accounts` (`id`) ON DELETE SET NULL);
-- Create index "contact_customer_account_id" to table: "contacts"
CREATE INDEX `contact_customer_account_id` ON `contacts` (`customer_account_id`);
-- Create index "contact_customer_account_id_email" to table: "contacts"
CREATE UNIQUE INDEX `contact_customer_account_id_email` ON `contacts` (`customer_account_id`, `email`) WHERE deleted_at IS NULL;
-- Create index "contact_customer_account_id_user_id" to table: "contacts"
CREATE UNIQUE INDEX `contact_customer_account_id_user_id` ON `contacts` (`customer_account_id`, `user_id`) WHERE deleted_at IS NULL;
-- Create index "contact_user_id" to table: "contacts"
CREATE INDEX `contact_user_id` ON `contacts` (`user_id`);
-- Create index "contact_unlinked_user_id" to table: "contacts"
CREATE INDEX `contact_unlinked_user_id` ON `contacts` (`unlinked_user_id`);
-- Create "customer_accounts" table
CREATE TABLE `customer_accounts` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `number` text NOT NULL, `name` text NOT NULL, `short_name` text NULL, `kind` text NOT NULL DEFAULT ('BUSINESS'), `time_zone` text NOT NULL DEFAULT ('Europe/Berlin'), `status` text NOT NULL DEFAULT ('ACTIVE'), `deactivated_at` datetime NULL, `deleted_at` datetime NULL, `has_sla` bool NOT NULL DEFAULT (false), `sla_until` text NULL, `portal_enabled` bool NOT NULL DEFAULT (true), `storage_quota_bytes` integer NULL, `is_agency` bool NOT NULL DEFAULT (false), `support_access_consent` bool NOT NULL DEFAULT (false), `address_street` text NULL, `address_postal_code` text NULL, `address_city` text NULL, `address_country` text NULL, `locale` text NOT NULL DEFAULT ('de'), `second_factor_required` bool NOT NULL DEFAULT (false), `default_agency_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `customer_accounts_customer_accounts_default_agency_clients` FOREIGN KEY (`default_agency_id`) REFERENCES `customer_accounts` (`id`) ON DELETE SET NULL);
-- Create index "customer_accounts_number_key" to table: "customer_accounts"
CREATE UNIQUE INDEX `customer_accounts_number_key` ON `customer_accounts` (`number`);
-- Create "group_memberships" table
CREATE TABLE `group_memberships` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `granted_via_delegation_id` text NULL, `valid_from` datetime NOT NULL, `valid_until` text NULL, `ended_at` datetime NULL, `contact_id` text NOT NULL, `customer_account_id` text NOT NULL, `group_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `group_memberships_contacts_group_memberships` FOREIGN KEY (`contact_id`) REFERENCES `contacts` (`id`) ON DELETE NO ACTION, CONSTRAINT `group_memberships_customer_accounts_group_memberships` FOREIGN KEY (`customer_account_id`) REFERENCES `customer_accounts` (`id`) ON DELETE NO ACTION, CONSTRAINT `group_memberships_rights_groups_memberships` FOREIGN KEY (`group_id`) REFERENCES `rights_groups` (`id`) ON DELETE NO ACTION);
-- Create index "groupmembership_customer_account_id" to table: "group_memberships"
CREATE INDEX `groupmembership_customer_account_id` ON `group_memberships` (`customer_account_id`);
-- Create index "groupmembership_contact_id" to table: "group_memberships"
CREATE INDEX `groupmembership_contact_id` ON `group_memberships` (`contact_id`);
-- Create index "groupmembership_group_id" to table: "group_memberships"
CREATE INDEX `groupmembership_group_id` ON `group_memberships` (`group_id`);
-- Create "idempotency_keys" table
CREATE TABLE `idempotency_keys` (`id` text NOT NULL, `request_hash` text NOT NULL, `response` text NOT NULL, `created_at` datetime NOT NULL, `expires_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create index "idempotencykey_expires_at" to table: "idempotency_keys"
CREATE INDEX `idempotencykey_expires_at` ON `idempotency_keys` (`expires_at`);
-- Create "invitations" table
CREATE TABLE `invitations` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `email` text NOT NULL, `name` text NOT NULL DEFAULT (''), `roles` json NULL, `group_ids` json NULL, `token_hash` text NOT NULL, `expires_at` datetime NOT NULL, `outside_organisation_domains` bool NOT NULL DEFAULT (false), `valid_until` text NULL, `state` text NOT NULL DEFAULT ('PENDING'), `accepted_at` datetime NULL, `revoked_at` datetime NULL, `contact_id` text NULL, `granted_via_delegation_id` text NULL, `customer_account_id` text NOT NULL, `invited_by_id` text NULL, `accepted_by_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `invitations_customer_accounts_invitations` FOREIGN KEY (`customer_account_id`) REFERENCES `customer_accounts` (`id`) ON DELETE NO ACTION, CONSTRAINT `invitations_user_accounts_invited_by` FOREIGN KEY (`invited_by_id`) REFERENCES `user_accounts` (`id`) ON DELETE SET NULL, CONSTRAINT `invitations_user_accounts_accepted_by` FOREIGN KEY (`accepted_by_id`) REFERENCES `user_accounts` (`id`) ON DELETE SET NULL);
-- Create index "invitations_token_hash_key" to table: "invitations"
CREATE UNIQUE INDEX `invitations_token_hash_key` ON `invitations` (`token_hash`);
-- Create index "invitation_customer_account_id" to table: "invitations"
CREATE INDEX `invitation_customer_account_id` ON `invitations` (`customer_account_id`);
-- Create index "invitation_contact_id" to table: "invitations"
CREATE INDEX `invitation_contact_id` ON `invitations` (`contact_id`);
-- Create "login_challenges" table
CREATE TABLE `login_challenges` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `purpose` text NOT NULL, `user_id` text NOT NULL, `session_id` text NULL, `methods` json NOT NULL, `code_hash` text NULL, `code_method` text NULL, `phone` text NULL, `code_expires_at` datetime NULL, `attempts` integer NOT NULL DEFAULT (0), `expires_at` datetime NOT NULL, `consumed_at` datetime NULL, `ip` text NOT NULL DEFAULT (''), `user_agent` text NOT NULL DEFAULT (''), PRIMARY KEY (`id`));
-- Create "one_time_tokens" table
CREATE TABLE `one_time_tokens` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `purpose` text NOT NULL, `user_id` text NOT NULL, `token_hash` text NOT NULL, `new_email` text NULL, `expires_at` datetime NOT NULL, `used_at` datetime NULL, `invalidated_at` datetime NULL, PRIMARY KEY (`id`));
-- Create index "one_time_tokens_token_hash_key" to table: "one_time_tokens"
CREATE UNIQUE INDEX `one_time_tokens_token_hash_key` ON `one_time_tokens` (`token_hash`);
-- Create index "onetimetoken_user_id_purpose" to table: "one_time_tokens"
CREATE INDEX `onetimetoken_user_id_purpose` ON `one_time_tokens` (`user_id`, `purpose`);
-- Create "organisation_domains" table
CREATE TABLE `organisation_domains` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `domain` text NOT NULL, `status` text NOT NULL DEFAULT ('PROPOSED'), `proposed_by_id` text NULL, `confirmed_by_id` text NULL, `confirmed_at` datetime NULL, `customer_account_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `organisation_domains_customer_accounts_organisation_domains` FOREIGN KEY (`customer_account_id`) REFERENCES `customer_accounts` (`id`) ON DELETE NO ACTION);
-- Create index "organisationdomain_customer_account_id" to table: "organisation_domains"
CREATE INDEX `organisationdomain_customer_account_id` ON `organisation_domains` (`customer_account_id`);
-- Create index "organisationdomain_customer_account_id_domain" to table: "organisation_domains"
CREATE UNIQUE INDEX `organisationdomain_customer_account_id_domain` ON `organisation_domains` (`customer_account_id`, `domain`);
-- Create "outbox_messages" table
CREATE TABLE `outbox_messages` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `channel` text NOT NULL, `recipient` text NOT NULL, `subject` text NOT NULL DEFAULT (''), `body` text NOT NULL, `status` text NOT NULL DEFAULT ('PENDING'), `attempts` integer NOT NULL DEFAULT (0), `next_attempt_at` datetime NOT NULL, `sent_at` datetime NULL, `last_error` text NULL, PRIMARY KEY (`id`));
-- Create index "outboxmessage_status_next_attempt_at" to table: "outbox_messages"
CREATE INDEX `outboxmessage_status_next_attempt_at` ON `outbox_messages` (`status`, `next_attempt_at`);
-- Create "rate_limit_buckets" table
CREATE TABLE `rate_limit_buckets` (`id` text NOT NULL, `window_start` datetime NOT NULL, `count` integer NOT NULL DEFAULT (0), PRIMARY KEY (`id`));
-- Create "resources" table
CREATE TABLE `resources` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `kind` text NOT NULL, `name` text NOT NULL, `customer_account_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `resources_customer_accounts_resources` FOREIGN KEY (`customer_account_id`) REFERENCES `customer_accounts` (`id`) ON DELETE NO ACTION);
-- Create index "resource_customer_account_id" to table: "resources"
CREATE INDEX `resource_customer_account_id` ON `resources` (`customer_account_id`);
-- Create index "resource_customer_account_id_kind_name" to table: "resources"
CREATE UNIQUE INDEX `resource_customer_account_id_kind_name` ON `resources` (`customer_account_id`, `kind`, `name`);
-- Create "retired_identifiers" table
CREATE TABLE `retired_identifiers` (`id` text NOT NULL, `user_id` text NOT NULL, `retired_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create "rights_groups" table
CREATE TABLE `rights_groups` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `description` text NOT NULL DEFAULT (''), `permissions` json NULL, `built_in` bool NOT NULL DEFAULT (false), `customer_account_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `rights_groups_customer_accounts_rights_groups` FOREIGN KEY (`customer_account_id`) REFERENCES `customer_accounts` (`id`) ON DELETE NO ACTION);
-- Create index "rightsgroup_customer_account_id" to table: "rights_groups"
CREATE INDEX `rightsgroup_customer_account_id` ON `rights_groups` (`customer_account_id`);
-- Create index "rightsgroup_customer_account_id_name" to table: "rights_groups"
CREATE UNIQUE INDEX `rightsgroup_customer_account_id_name` ON `rights_groups` (`customer_account_id`, `name`);
-- Create index "rightsgroup_builtin_account" to table: "rights_groups"
CREATE UNIQUE INDEX `rightsgroup_builtin_account` ON `rights_groups` (`customer_account_id`) WHERE built_in;
-- Create "role_assignments" table
CREATE TABLE `role_assignments` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `role` text NOT NULL, `granted_via_delegation_id` text NULL, `valid_from` datetime NOT NULL, `valid_until` text NULL, `ended_at` datetime NULL, `contact_id` text NOT NULL, `customer_account_id` text NOT NULL, `granted_by_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `role_assignments_contacts_role_assignments` FOREIGN KEY (`contact_id`) REFERENCES `contacts` (`id`) ON DELETE NO ACTION, CONSTRAINT `role_assignments_customer_accounts_role_assignments` FOREIGN KEY (`customer_account_id`) REFERENCES `customer_accounts` (`id`) ON DELETE NO ACTION, CONSTRAINT `role_assignments_user_accounts_granted_by` FOREIGN KEY (`granted_by_id`) REFERENCES `user_accounts` (`id`) ON DELETE SET NULL);
-- Create index "roleassignment_customer_account_id" to table: "role_assignments"
CREATE INDEX `roleassignment_customer_account_id` ON `role_assignments` (`customer_account_id`);
-- Create index "roleassignment_contact_id" to table: "role_assignments"
CREATE INDEX `roleassignment_contact_id` ON `role_assignments` (`contact_id`);
-- Create "scoped_logins" table
CREATE TABLE `scoped_logins` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `login_name` text NOT NULL, `password_hash` text NULL, `reference_emails` json NULL, `status` text NOT NULL DEFAULT ('ACTIVE'), `must_change_password` bool NOT NULL DEFAULT (false), `last_login_at` datetime NULL, `customer_account_id` text NOT NULL, `resource_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `scoped_logins_customer_accounts_scoped_logins` FOREIGN KEY (`customer_account_id`) REFERENCES `customer_accounts` (`id`) ON DELETE NO ACTION, CONSTRAINT `scoped_logins_resources_scoped_logins` FOREIGN KEY (`resource_id`) REFERENCES `resources` (`id`) ON DELETE NO ACTION);
-- Create index "scoped_logins_login_name_key" to table: "scoped_logins"
CREATE UNIQUE INDEX `scoped_logins_login_name_key` ON `scoped_logins` (`login_name`);
-- Create index "scopedlogin_customer_account_id" to table: "scoped_logins"
CREATE INDEX `scopedlogin_customer_account_id` ON `scoped_logins` (`customer_account_id`);
-- Create "sessions" table
CREATE TABLE `sessions` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `scoped_login_id` text NULL, `refresh_token_hash` text NULL, `refresh_generation` integer NOT NULL DEFAULT (0), `previous_refresh_hashes` json NULL, `rotated_at` datetime NULL, `ip` text NOT NULL DEFAULT (''), `user_agent` text NOT NULL DEFAULT (''), `last_used_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `revoked_at` datetime NULL, `revoke_reason` text NULL, `second_factor_at` datetime NULL, `user_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `sessions_user_accounts_sessions` FOREIGN KEY (`user_id`) REFERENCES `user_accounts` (`id`) ON DELETE SET NULL);
-- Create index "session_user_id" to table: "sessions"
CREATE INDEX `session_user_id` ON `sessions` (`user_id`);
-- Create "support_authorizations" table
CREATE TABLE `support_authorizations` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `kind` text NOT NULL, `scope_business_area` text NULL, `scope_budget_cents` integer NULL, `scope_currency` text NULL, `granted_via_delegation_id` text NULL, `valid_from` datetime NOT NULL, `valid_until` text NULL, `ended_at` datetime NULL, `contact_id` text NOT NULL, `customer_account_id` text NOT NULL, `granted_by_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `support_authorizations_contacts_support_authorizations` FOREIGN KEY (`contact_id`) REFERENCES `contacts` (`id`) ON DELETE NO ACTION, CONSTRAINT `support_authorizations_customer_accounts_support_authorizations` FOREIGN KEY (`customer_account_id`) REFERENCES `customer_accounts` (`id`) ON DELETE NO ACTION, CONSTRAINT `support_authorizations_user_accounts_granted_by` FOREIGN KEY (`granted_by_id`) REFERENCES `user_accounts` (`id`) ON DELETE SET NULL);
-- Create index "supportauthorization_customer_account_id" to table: "support_authorizations"
CREATE INDEX `supportauthorization_customer_account_id` ON `support_authorizations` (`customer_account_id`);
-- Create index "supportauthorization_contact_id" to table: "support_authorizations"
CREATE INDEX `supportauthorization_contact_id` ON `support_authorizations` (`contact_id`);
-- Create "support_pin_states" table
CREATE TABLE `support_pin_states` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `user_id` text NULL, `scoped_login_id` text NULL, `nonce` text NOT NULL, `counter` integer NOT NULL DEFAULT (0), `rotated_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create index "support_pin_states_user_id_key" to table: "support_pin_states"
CREATE UNIQUE INDEX `support_pin_states_user_id_key` ON `support_pin_states` (`user_id`);
-- Create index "support_pin_states_scoped_login_id_key" to table: "support_pin_states"
CREATE UNIQUE INDEX `support_pin_states_scoped_login_id_key` ON `support_pin_states` (`scoped_login_id`);
-- Create "user_accounts" table
CREATE TABLE `user_accounts` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `email` text NULL, `pending_email` text NULL, `email_verified_at` datetime NULL, `username` text NOT NULL, `name` text NOT NULL DEFAULT (''), `phone` text NULL, `phone_verified_at` datetime NULL, `pending_phone` text NULL, `reference_email` text NULL, `reference_email_confirmed_at` datetime NULL, `locale` text NOT NULL DEFAULT ('de'), `password_hash` text NULL, `password_changed_at` datetime NULL, `must_change_password` bool NOT NULL DEFAULT (false), `second_factor_methods` json NULL, `totp_secret` text NULL, `recovery_code_hashes` json NULL, `pending_totp_secret` text NULL, `totp_last_step` integer NULL, `status` text NOT NULL DEFAULT ('ACTIVE'), `deleted_at` datetime NULL, `anonymised_at` datetime NULL, `last_login_at` datetime NULL, `staff_role` text NULL, PRIMARY KEY (`id`));
-- Create index "user_accounts_email_key" to table: "user_accounts"
CREATE UNIQUE INDEX `user_accounts_email_key` ON `user_accounts` (`email`);
-- Create index "user_accounts_username_key" to table: "user_accounts"
CREATE UNIQUE INDEX `user_accounts_username_key` ON `user_accounts` (`username`);
-- Create index "useraccount_pending_email" to table: "user_accounts"
CREATE INDEX `useraccount_pending_email` ON `user_accounts` (`pending_email`);
