-- Modify "outbox_messages" table
ALTER TABLE "outbox_messages" ADD COLUMN "html_body" text NOT NULL DEFAULT '', ADD COLUMN "kind" character varying NOT NULL DEFAULT '', ADD COLUMN "language" character varying NOT NULL DEFAULT '', ADD COLUMN "unsubscribe_url" character varying NOT NULL DEFAULT '';
