-- What the context check looks at, extracted from the resource on write: 'patient:<ref>' for each
-- patient whose compartment the resource is in, 'team:<ref>' for each care team responsible for
-- or taking part in it. Kept per version so that history is filtered like the current state.
ALTER TABLE resource ADD COLUMN tags text[] NOT NULL DEFAULT '{}';
ALTER TABLE resource_history ADD COLUMN tags text[] NOT NULL DEFAULT '{}';
