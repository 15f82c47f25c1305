-- The Subscriptions' outbox: a change (a version written) that some consumer must hear of, recorded in
-- the write's own transaction, so a rolled-back write leaves nothing and a committed one is never lost.
-- Each change fans out to one delivery per Subscription it matched; a delivery row lives until it is
-- delivered (or its Subscription stops). Further consumers (a broker) add deliveries of their own kind.
CREATE TABLE subscription_change (
  id bigserial PRIMARY KEY,
  res_type text NOT NULL,
  res_id text NOT NULL,
  version bigint NOT NULL,
  recorded timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE subscription_delivery (
  change_id bigint NOT NULL REFERENCES subscription_change (id) ON DELETE CASCADE,
  subscription_id text NOT NULL,
  -- Type/id of the changed resource: deliveries to one Subscription go out in order per resource
  res_key text NOT NULL,
  attempts int NOT NULL DEFAULT 0,
  due timestamptz NOT NULL DEFAULT now(),
  -- a process sending it holds it until then; a dead process's lease runs out and another takes it
  leased_until timestamptz,
  last_error text,
  -- in the order of the changes: what is leased first, and the deliveries of one change together
  PRIMARY KEY (change_id, subscription_id)
);

-- what waits before a delivery of the same Subscription and resource (they go out in order)
CREATE INDEX subscription_delivery_order ON subscription_delivery (subscription_id, res_key, change_id);
