-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_outbox_messages" table
CREATE TABLE `new_outbox_messages` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `channel` text NOT NULL, `recipient` text NOT NULL, `subject` text NOT NULL DEFAULT (''), `body` text NOT NULL, `html_body` text NOT NULL DEFAULT (''), `kind` text NOT NULL DEFAULT (''), `language` text NOT NULL DEFAULT (''), `unsubscribe_url` text NOT NULL DEFAULT (''), `status` text NOT NULL DEFAULT ('PENDING'), `attempts` integer NOT NULL DEFAULT (0), `next_attempt_at` datetime NOT NULL, `sent_at` datetime NULL, `last_error` text NULL, PRIMARY KEY (`id`));
-- Copy rows from old table "outbox_messages" to new temporary table "new_outbox_messages"
INSERT INTO `new_outbox_messages` (`id`, `created_at`, `updated_at`, `channel`, `recipient`, `subject`, `body`, `status`, `attempts`, `next_attempt_at`, `sent_at`, `last_error`) SELECT `id`, `created_at`, `updated_at`, `channel`, `recipient`, `subject`, `body`, `status`, `attempts`, `next_attempt_at`, `sent_at`, `last_error` FROM `outbox_messages`;
-- Drop "outbox_messages" table after copying rows
DROP TABLE `outbox_messages`;
-- Rename temporary table "new_outbox_messages" to "outbox_messages"
ALTER TABLE `new_outbox_messages` RENAME TO `outbox_messages`;
-- Create index "outboxmessage_status_next_attempt_at" to table: "outbox_messages"
CREATE INDEX `outboxmessage_status_next_attempt_at` ON `outbox_messages` (`status`, `next_attempt_at`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
