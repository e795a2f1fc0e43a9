-- Drop index "auditevent_customer_account_id_occurred_at" from table: "audit_events"
DROP INDEX `auditevent_customer_account_id_occurred_at`;
-- Drop index "auditevent_target_id_occurred_at" from table: "audit_events"
DROP INDEX `auditevent_target_id_occurred_at`;
-- Create index "auditevent_customer_account_id_occurred_at_id" to table: "audit_events"
CREATE INDEX `auditevent_customer_account_id_occurred_at_id` ON `audit_events` (`customer_account_id`, `occurred_at` DESC, `id`);
-- Create index "auditevent_target_id_occurred_at_id" to table: "audit_events"
CREATE INDEX `auditevent_target_id_occurred_at_id` ON `audit_events` (`target_id`, `occurred_at` DESC, `id`);
-- Create index "auditevent_occurred_at_id" to table: "audit_events"
CREATE INDEX `auditevent_occurred_at_id` ON `audit_events` (`occurred_at` DESC, `id`);
-- Drop index "contact_customer_account_id" from table: "contacts"
DROP INDEX `contact_customer_account_id`;
-- Create index "contact_customer_account_id_id" to table: "contacts"
CREATE INDEX `contact_customer_account_id_id` ON `contacts` (`customer_account_id`, `id`);
-- Create index "contact_customer_account_id_name_id" to table: "contacts"
CREATE INDEX `contact_customer_account_id_name_id` ON `contacts` (`customer_account_id`, `name`, `id`);
-- Create index "contact_customer_account_id_email_id" to table: "contacts"
CREATE INDEX `contact_customer_account_id_email_id` ON `contacts` (`customer_account_id`, `email`, `id`);
-- Create index "contact_customer_account_id_created_at_id" to table: "contacts"
CREATE INDEX `contact_customer_account_id_created_at_id` ON `contacts` (`customer_account_id`, `created_at`, `id`);
